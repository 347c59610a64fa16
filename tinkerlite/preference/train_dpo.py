"""Direct Preference Optimisation on a Tinker service, without torch.

Per step: reference log-probs of every (chosen, rejected) datum from a frozen sampler
(``compute_logprobs``), then ``forward_backward_custom`` with the closed-form DPO gradient
(:mod:`.dpo_loss`), then ``optim_step``. The next batch's reference requests are submitted before the
current step's results are awaited, so sampling-side and training-side work overlap.

The reference is the initial policy (after ``load_checkpoint_path``), saved once as a sampler
checkpoint whose path is kept in ``<log_path>/reference.json``; a resumed run scores against that same
snapshot. (The cookbook re-snapshots on resume, so its resumed runs silently change the reference to
the partially trained policy.) ``reference_model_path`` pins any other sampler checkpoint instead.
Reference log-probs are cached per token sequence: the reference never changes, so later epochs and
evaluations reuse them.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..errors import ValidationError
from ..eval.evaluators import EvaluatorBuilder, SamplingClientEvaluator, resolve_metrics
from ..supervised.types import SupervisedDatasetBuilder
from ..types import AdamParams, Datum, ModelInput
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing, usage_from_state
from ..utils.lr_scheduling import LRSchedule, compute_schedule_lr_multiplier
from ..utils.ml_log import MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from .dpo_loss import dpo_loss_and_grads, make_dpo_loss_fn, sequence_logprob, split_pairs

__all__ = ["Config", "ReferenceScorer", "evaluate_pairs", "main", "run"]

logger = logging.getLogger(__name__)
REFERENCE_FILE = "reference.json"
DPO_METRICS = ("dpo_loss", "accuracy", "margin", "chosen_reward", "rejected_reward")


@configclass
class Config:
    """The cookbook's ``preference.train_dpo.Config``: same fields, order and defaults (a chz class with chz).

    tinkerlite additions at the end (``reference_model_path``, ``warmup_steps``, ``api_key``,
    ``show_progress``). Cookbook fields whose feature tinkerlite lacks are accepted at their defaults;
    any other value is refused up front, naming the field. ``num_replicas`` and ``reference_model_name``
    are accepted and unused, as in the cookbook.
    """

    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    model_name: str
    recipe_name: str
    dataset_builder: SupervisedDatasetBuilder
    load_checkpoint_path: str | None = None
    renderer_name: str | None = None
    learning_rate: float = 1e-5
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 1
    dpo_beta: float = 0.1
    lora_rank: int = 32
    num_replicas: int = 8
    base_url: str | None = None
    evaluator_builders: list[EvaluatorBuilder] = field(default_factory=list)
    infrequent_evaluator_builders: list[EvaluatorBuilder] = field(default_factory=list)
    save_every: int = 20
    eval_every: int = 10
    infrequent_eval_every: int = 100
    ttl_seconds: int | None = 604800
    rolling_save_every: int = 0
    rolling_ttl_seconds: int = 7200
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    enable_trace: bool = False
    span_chart_every: int = 0
    reference_model_name: str | None = None
    max_steps: int | None = None
    # tinkerlite additions
    reference_model_path: str | None = None
    """A sampler checkpoint (``tinker://.../sampler_weights/...``) to score against; default: the initial policy."""
    warmup_steps: int = 0
    api_key: str | None = None
    show_progress: bool = True

    @validate
    def _check_supported(self) -> None:
        refuse_unsupported(self, rolling_save_every=0, enable_trace=False, span_chart_every=0)


def _result(x: Any) -> Any:
    """Resolve an SDK future (``.result()``); pass plain values through."""
    res = getattr(x, "result", None)
    return res() if callable(res) else x


def full_sequence(datum: Datum) -> ModelInput:
    """The unshifted sequence a sampler scores: the datum's input plus its last target token."""
    targets = datum.loss_fn_inputs["target_tokens"].dense_flat()
    return datum.model_input.append_int(int(targets[-1])) if len(targets) else datum.model_input


class ReferenceScorer:
    """Reference log-probs of datum targets from a frozen sampler, cached by token sequence."""

    def __init__(self, sampling_client: Any) -> None:
        self.sampling_client = sampling_client
        self._cache: dict[tuple[int, ...], list[float]] = {}
        self.requests = 0

    def submit(self, data: list[Datum]) -> list[Any]:
        """Start the requests for uncached datums; pass the handle to :meth:`collect`."""
        handles: list[Any] = []
        for d in data:
            seq = full_sequence(d)
            key = tuple(seq.to_ints())
            if key in self._cache:
                handles.append((key, None))
            else:
                self.requests += 1
                handles.append((key, self.sampling_client.compute_logprobs(seq)))
        return handles

    def collect(self, data: list[Datum], handles: list[Any]) -> list[list[float]]:
        out = []
        for i, (d, (key, fut)) in enumerate(zip(data, handles, strict=True)):
            if fut is not None and key not in self._cache:
                scored = list(_result(fut))
                n = d.model_input.length
                if len(scored) != n + 1:
                    raise ValidationError(
                        f"the reference returned {len(scored)} logprobs for a {n + 1}-token sequence",
                        field=f"data[{i}]",
                    )
                self._cache[key] = [math.nan if v is None else float(v) for v in scored[1:]]
            out.append(self._cache[key])
        return out

    def __call__(self, data: list[Datum]) -> list[list[float]]:
        return self.collect(data, self.submit(data))


def evaluate_pairs(
    training_client: Any, data: list[Datum], ref_logprobs: list[list[float]], beta: float
) -> dict[str, float]:
    """Forward-only DPO metrics on interleaved pairs, plus ``pref_accuracy``: how often the policy alone
    gives the chosen completion the higher weighted log-prob (reference-free, so meaningful at step 0)."""
    out = _result(training_client.forward(data, "cross_entropy"))
    logprobs = [o["logprobs"].tolist() for o in out.loss_fn_outputs]
    chosen, rejected = split_pairs(data)
    lp_c, lp_r = split_pairs(logprobs)
    ref_c, ref_r = split_pairs(ref_logprobs)
    wc = [d.loss_fn_inputs["weights"] for d in chosen]
    wr = [d.loss_fn_inputs["weights"] for d in rejected]
    res = dpo_loss_and_grads(lp_c, lp_r, ref_c, ref_r, wc, wr, beta)
    wins = sum(
        1.0 for a, b, x, y in zip(lp_c, lp_r, wc, wr, strict=True) if sequence_logprob(a, x) > sequence_logprob(b, y)
    )
    return {**res.metrics, "pref_accuracy": wins / len(chosen)}


def _check_pairs(data: list[Datum], where: str) -> None:
    if not data or len(data) % 2:
        raise ValidationError(f"a DPO batch must hold (chosen, rejected) pairs; got {len(data)} datums", field=where)


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    """Train; returns a summary (steps run, first/last metrics, final checkpoint paths)."""
    if config.num_epochs < 1:
        raise ValidationError(f"must be >= 1, got {config.num_epochs}", field="num_epochs")
    if not config.dpo_beta > 0:
        raise ValidationError(f"must be > 0, got {config.dpo_beta}", field="dpo_beta")
    resume = get_last_checkpoint(config.log_path)
    ml = setup_logging(
        config.log_path, config.wandb_project, config.wandb_name, config=config, do_configure_logging_module=False
    )
    owns_client = service_client is None
    if service_client is None:
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(
            base_url=config.base_url,
            api_key=config.api_key,
            display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
        )
    try:
        return _train(config, service_client, resume, ml)
    finally:
        ml.close()
        if owns_client:
            service_client.close()


def _reference_client(config: Config, service_client: Any, training_client: Any, resumed: bool) -> tuple[Any, str]:
    ref_file = Path(config.log_path) / REFERENCE_FILE
    if config.reference_model_path:
        path = config.reference_model_path
    elif ref_file.exists():
        path = json.loads(ref_file.read_text())["sampler_path"]
    elif resumed:
        raise ValidationError(
            f"resuming but {ref_file} is missing: the reference policy of this run is unknown; "
            "pass reference_model_path",
            field="reference_model_path",
        )
    else:
        path = _result(training_client.save_weights_for_sampler("reference", ttl_seconds=None)).path
    tmp = ref_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"sampler_path": path}) + "\n")
    os.replace(tmp, ref_file)
    return _result(service_client.create_sampling_client(model_path=path)), path


def _train(config: Config, service_client: Any, resume: Any, ml: MultiplexLogger) -> dict[str, Any]:
    dataset, test_dataset = config.dataset_builder()  # bad rows fail here, before a model is created
    user_metadata = {"recipe": config.recipe_name}
    if config.renderer_name:
        user_metadata["renderer_name"] = config.renderer_name
    if resume is not None:
        training_client = _result(service_client.create_training_client_from_state_with_optimizer(resume.state_path))
        logger.info("resuming from %s", resume.state_path)
    elif config.load_checkpoint_path:
        training_client = _result(service_client.create_training_client_from_state(config.load_checkpoint_path))
    else:
        training_client = _result(
            service_client.create_lora_training_client(
                base_model=config.model_name, rank=config.lora_rank, user_metadata=user_metadata
            )
        )
    reference_client, reference_path = _reference_client(config, service_client, training_client, resume is not None)
    scorer = ReferenceScorer(reference_client)

    n_batches = len(dataset)
    if n_batches == 0:
        raise ValidationError("the dataset has no full batch", field="dataset_builder")
    total_steps = n_batches * config.num_epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    stats = getattr(dataset, "stats", None)
    static_metrics: dict[str, Any] = {}
    if stats is not None and getattr(stats, "num_ties_skipped", None):
        static_metrics["num_ties_skipped"] = stats.num_ties_skipped

    test_data: list[Datum] = []
    if test_dataset is not None and len(test_dataset):
        test_data = [d for i in range(len(test_dataset)) for d in test_dataset.get_batch(i)]
        _check_pairs(test_data, "test_dataset")
    evaluators = [b() for b in config.evaluator_builders]
    infrequent_evaluators = [b() for b in config.infrequent_evaluator_builders]

    def run_evals(infrequent: bool = False) -> dict[str, float]:
        metrics: dict[str, float] = {}
        if infrequent:
            return run_evaluators(infrequent_evaluators, metrics)
        if test_data:
            ev = evaluate_pairs(training_client, test_data, scorer(test_data), config.dpo_beta)
            metrics.update({f"test/{k}": v for k, v in ev.items()})
        return run_evaluators(evaluators, metrics)

    def run_evaluators(which: list[Any], metrics: dict[str, float]) -> dict[str, float]:
        sampling_client = None
        for ev_fn in which:
            if isinstance(ev_fn, SamplingClientEvaluator):
                if sampling_client is None:
                    sampling_client = _result(training_client.save_weights_and_get_sampling_client())
                metrics.update(resolve_metrics(ev_fn(sampling_client)))
            else:
                metrics.update(resolve_metrics(ev_fn(training_client)))
        return metrics

    start_epoch, start_batch, resume_step = 0, 0, 0
    if resume is not None:
        start_epoch, start_batch = int(resume.epoch or 0), int(resume.batch or 0)
        resume_step = int(resume.get("step", start_epoch * n_batches + start_batch))
    # Rows from the restart point on are re-run, so they go (all of them when no checkpoint exists yet).
    dropped = ml.truncate_metrics(resume_step)
    if dropped:
        logger.info("dropped %d metrics rows of steps that will be re-run from step %d", dropped, resume_step)

    ckpt = _StepCheckpointer(training_client, config.log_path, config.save_every, config.ttl_seconds)
    progress = ProgressLine(total_steps) if config.show_progress else None
    positions = [
        (e, b)
        for e in range(start_epoch, config.num_epochs)
        for b in range(start_batch if e == start_epoch else 0, n_batches)
        if e * n_batches + b < total_steps
    ]
    history: list[dict[str, float]] = []
    epoch_seen = -1
    # tinkerlite: cost/ metrics as the RL and SL loops log them (trained = the pairs' tokens; the reference
    # scoring is prefill). The totals ride in the checkpoint records so a resume continues them.
    cost_tracker = CostTracker(
        fetch_model_pricing(config.model_name),
        cumulative=usage_from_state(resume.get("cumulative_tokens") if resume is not None else None),
    )

    def fetch(epoch: int, batch: int) -> tuple[list[Datum], list[Any]]:
        nonlocal epoch_seen
        if epoch != epoch_seen:
            dataset.set_epoch(seed=epoch)
            epoch_seen = epoch
        data = dataset.get_batch(batch)
        _check_pairs(data, f"batch {batch} of epoch {epoch}")
        return data, scorer.submit(data)

    upcoming = fetch(*positions[0]) if positions else None
    for k, (epoch, batch) in enumerate(positions):
        step = epoch * n_batches + batch
        t_step = time.monotonic()
        assert upcoming is not None
        data, handles = upcoming
        lr = config.learning_rate * compute_schedule_lr_multiplier(
            config.lr_schedule, step, total_steps, config.warmup_steps
        )
        metrics: dict[str, Any] = {"epoch": epoch, "learning_rate": lr, **static_metrics}
        if config.eval_every > 0 and step % config.eval_every == 0:
            metrics.update(run_evals())
        if infrequent_evaluators and config.infrequent_eval_every > 0 and step % config.infrequent_eval_every == 0:
            metrics.update(run_evals(infrequent=True))
        ref = scorer.collect(data, handles)
        cost_metrics = cost_tracker.record_step(
            TokenUsage(
                prefill_uncached=sum(full_sequence(d).length for d in data),
                trained=sum(d.model_input.length for d in data),
            )
        )
        fwd = training_client.forward_backward_custom(data, make_dpo_loss_fn(ref, config.dpo_beta))
        opt = training_client.optim_step(
            AdamParams(learning_rate=lr, beta1=config.adam_beta1, beta2=config.adam_beta2, eps=config.adam_eps)
        )
        applied = step + 1
        save = None
        if ckpt.should_save(applied) and applied < total_steps:
            nxt = (epoch, batch + 1) if batch + 1 < n_batches else (epoch + 1, 0)
            state = {"epoch": nxt[0], "batch": nxt[1], "step": applied}
            save = ckpt.submit_periodic(applied, {**state, "cumulative_tokens": asdict(cost_tracker.cumulative)})
        upcoming = fetch(*positions[k + 1]) if k + 1 < len(positions) else None  # overlaps with this step
        out = _result(fwd)
        opt_out = _result(opt)
        if getattr(opt_out, "metrics", None):
            metrics.update(opt_out.metrics)
        dpo = {key: float(out.metrics[key]) for key in DPO_METRICS}
        history.append(dpo)
        metrics.update(dpo)
        metrics.update(
            num_pairs=len(data) // 2,
            num_tokens=sum(d.model_input.length for d in data),
            progress=applied / total_steps,
        )
        metrics.update(cost_metrics)
        metrics["time/total"] = time.monotonic() - t_step  # this step's wall time, as the cookbook logs it
        ml.log_metrics(metrics, step=step)  # before the save's record: a crash between them re-runs, never skips
        if save is not None:
            save.finish_or_warn()  # a failed periodic save is logged; the run goes on
        if progress is not None:
            extra = f"acc {dpo['accuracy']:.2f}  margin {dpo['margin']:.3f}"
            if "test/pref_accuracy" in metrics:
                extra += f"  test/pref_acc {metrics['test/pref_accuracy']:.2f}"
            progress.update(step, dpo["dpo_loss"], metrics["num_tokens"], extra)

    final: dict[str, Any] = {}
    if positions:
        eval_final = run_evals() if (test_data or evaluators) else {}
        if infrequent_evaluators:
            eval_final.update(run_evals(infrequent=True))
        if eval_final:
            ml.log_metrics(eval_final, step=total_steps)
        rec = ckpt.save_final(
            {"epoch": config.num_epochs, "batch": 0, "step": total_steps,
             "cumulative_tokens": asdict(cost_tracker.cumulative)}
        )
        final = {"state_path": rec.state_path, "sampler_path": rec.sampler_path, **eval_final}
    return {
        "steps_run": len(positions),
        "total_steps": total_steps,
        "first": history[0] if history else {},
        "last": history[-1] if history else {},
        "reference_path": reference_path,
        "reference_requests": scorer.requests,
        "training_client": training_client,
        **final,
    }


def main(config: Config) -> dict[str, Any]:
    """Train (a plain function, as the cookbook's ``train_dpo.main``: call ``main(config)``, not ``asyncio.run``)."""
    return run(config)
