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

The cookbook's step functions are here too (:func:`create_dpo_clients`, :func:`compute_dpo_loss`,
:func:`do_update`, :func:`print_example`), and the loop is made of the same pieces; evaluations go
through :func:`tinkerlite.supervised.train.run_evals`. A test split is evaluated as in the cookbook
(``test/nll`` of its datums on a sampling snapshot, :class:`~tinkerlite.supervised.nll_evaluator.SamplerNLLEvaluator`)
and with the DPO metrics on its pairs (``test/dpo_loss``, ``test/accuracy``, ..., ``test/pref_accuracy``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, check_renderer_name_for_checkpoint, get_last_checkpoint
from ..errors import ValidationError
from ..eval.evaluators import Evaluator, EvaluatorBuilder, TrainingClientEvaluator
from ..supervised.nll_evaluator import SamplerNLLEvaluator
from ..supervised.train import run_evals
from ..supervised.types import SupervisedDataset, SupervisedDatasetBuilder
from ..types import AdamParams, Datum, ModelInput
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing, usage_from_state
from ..utils.format_colorized import format_colorized
from ..utils.lr_scheduling import LRSchedule, compute_schedule_lr_multiplier
from ..utils.ml_log import Logger, MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from .dpo_loss import compute_dpo_loss, dpo_loss_and_grads, make_dpo_loss_fn, sequence_logprob, split_pairs

__all__ = [
    "Config",
    "ReferenceScorer",
    "compute_dpo_loss",
    "create_dpo_clients",
    "do_update",
    "evaluate_pairs",
    "main",
    "print_example",
    "run",
]

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


def _paired(data: list[Datum], where: str) -> list[Datum]:
    """The batch as (chosen, rejected) pairs: an odd last datum (a row that built only one side) is dropped
    with a warning, as in the cookbook; a batch with no pair is an error naming it."""
    if len(data) % 2:
        logger.warning(
            "%s has an odd number of datums (%d); dropping the last, unpaired one to keep chosen/rejected "
            "pairs aligned (some rows produced no datums)",
            where,
            len(data),
        )
        data = data[:-1]
    if not data:
        raise ValidationError("a DPO batch must hold at least one (chosen, rejected) pair; got none", field=where)
    return data


class _PairEvaluator(TrainingClientEvaluator):
    """``test/...`` DPO metrics (:func:`evaluate_pairs`) on held-out pairs, as an evaluator for ``run_evals``."""

    def __init__(self, data: list[Datum], scorer: ReferenceScorer, beta: float) -> None:
        self.data, self.scorer, self.beta = data, scorer, beta

    async def __call__(self, training_client: Any) -> dict[str, float]:
        return await asyncio.to_thread(self._evaluate, training_client)

    def _evaluate(self, training_client: Any) -> dict[str, float]:
        ev = evaluate_pairs(training_client, self.data, self.scorer(self.data), self.beta)
        return {f"test/{k}": v for k, v in ev.items()}


def print_example(datum: Datum, tokenizer: Any, label: str = "") -> None:
    """Log one datum decoded, its tokens coloured by loss weight (trained ones green), under ``label``."""
    weights = [float(w) for w in datum.loss_fn_inputs["weights"].dense_flat()]
    logger.info("\n%s Example:", label)
    logger.info("%s", format_colorized(list(datum.model_input.to_ints()), weights, tokenizer))


def _create_dpo_clients(
    config: Config, service_client: Any, resume_info: Any, user_metadata: dict[str, str] | None
) -> tuple[Any, Any, str]:
    if resume_info:
        check_renderer_name_for_checkpoint(service_client, resume_info.state_path, config.renderer_name)
        training_client = _result(
            service_client.create_training_client_from_state_with_optimizer(
                resume_info.state_path, user_metadata=user_metadata
            )
        )
        logger.info("resumed DPO training from %s", resume_info.state_path)
    elif config.load_checkpoint_path:
        check_renderer_name_for_checkpoint(service_client, config.load_checkpoint_path, config.renderer_name)
        training_client = _result(
            service_client.create_training_client_from_state(config.load_checkpoint_path, user_metadata=user_metadata)
        )
        logger.info("loaded weights from %s", config.load_checkpoint_path)
    else:
        training_client = _result(
            service_client.create_lora_training_client(
                base_model=config.model_name, rank=config.lora_rank, user_metadata=user_metadata
            )
        )
    reference_client, reference_path = _reference_client(config, service_client, training_client, bool(resume_info))
    return training_client, reference_client, reference_path


def create_dpo_clients(
    config: Config,
    service_client: Any,
    resume_info: Any | None = None,
    user_metadata: dict[str, str] | None = None,
) -> tuple[Any, Any]:
    """``(training client, reference sampling client)`` for a DPO run, as the cookbook's.

    The training client resumes from ``resume_info`` (weights and optimizer state), else loads
    ``config.load_checkpoint_path`` (weights only), else is a fresh LoRA client. The reference is the
    initial policy, saved once as a sampler checkpoint recorded in ``<log_path>/reference.json``, so a
    resumed run scores against the same reference (the cookbook re-snapshots the resumed weights);
    ``config.reference_model_path`` pins another sampler checkpoint.
    """
    training_client, reference_client, _ = _create_dpo_clients(config, service_client, resume_info, user_metadata)
    return training_client, reference_client


def _learning_rate(config: Config, step: int, total_steps: int) -> float:
    mult = compute_schedule_lr_multiplier(config.lr_schedule, step, total_steps, config.warmup_steps)
    return config.learning_rate * mult


def _submit_update(training_client: Any, data: list[Datum], ref: list[list[float]], config: Config, lr: float) -> Any:
    """Submit the step: ``forward_backward_custom`` with the DPO loss against ``ref``, then ``optim_step``."""
    fwd = training_client.forward_backward_custom(data, make_dpo_loss_fn(ref, config.dpo_beta))
    opt = training_client.optim_step(
        AdamParams(learning_rate=lr, beta1=config.adam_beta1, beta2=config.adam_beta2, eps=config.adam_eps)
    )
    return fwd, opt


def _update_metrics(fwd: Any, opt: Any, data: list[Datum], lr: float, progress: float) -> dict[str, Any]:
    """Wait for a submitted step; its row's metrics (the optimizer's, the DPO ones, sizes, rate, progress)."""
    out = _result(fwd)
    opt_out = _result(opt)
    metrics: dict[str, Any] = dict(getattr(opt_out, "metrics", None) or {})
    metrics.update({key: float(out.metrics[key]) for key in DPO_METRICS})
    metrics.update(
        num_pairs=len(data) // 2,
        num_tokens=sum(d.model_input.length for d in data),
        learning_rate=lr,
        progress=progress,
    )
    return metrics


def do_update(
    epoch_idx: int,
    batch_idx: int,
    n_batches: int,
    total_steps: int,
    config: Config,
    training_client: Any,
    reference_client: Any,
    evaluators: list[Evaluator],
    infrequent_evaluators: list[Evaluator],
    dataset: SupervisedDataset,
    ml_logger: Logger,
    log_path: str,
    tokenizer: Any,
    checkpoint_mgr: Any | None = None,
) -> None:
    """One DPO step, as the cookbook's: save if due (``checkpoint_mgr.maybe_save``), evaluate (every
    ``eval_every`` steps and on the last step; the infrequent ones every ``infrequent_eval_every``),
    score the batch under the reference, ``forward_backward_custom`` + ``optim_step``, log the row.

    ``main`` runs the same pieces pipelined (the next batch's reference requests overlap this step) with
    exact-position checkpoints; this is the one-step form for code built on the cookbook's loop.
    """
    step = epoch_idx * n_batches + batch_idx
    t_step = time.monotonic()
    metrics: dict[str, Any] = {"epoch": epoch_idx}
    if checkpoint_mgr is not None:
        saved = checkpoint_mgr.maybe_save(step=step, loop_state={"epoch": epoch_idx, "batch": batch_idx})
        if saved and "state_path" in saved:
            metrics["state_path"] = saved["state_path"]
    lr = _learning_rate(config, step, total_steps)
    if config.eval_every > 0 and (step % config.eval_every == 0 or step == total_steps - 1):
        metrics.update(asyncio.run(run_evals(evaluators, training_client, step)))
    if config.infrequent_eval_every > 0 and step % config.infrequent_eval_every == 0:
        metrics.update(asyncio.run(run_evals(infrequent_evaluators, training_client, step)))
    data = _paired(dataset.get_batch(batch_idx), f"batch {batch_idx} of epoch {epoch_idx}")
    if step == 0:
        _print_pairs(data, tokenizer)
    fwd, opt = _submit_update(training_client, data, ReferenceScorer(reference_client)(data), config, lr)
    metrics.update(_update_metrics(fwd, opt, data, lr, step / total_steps))
    metrics["time/total"] = metrics["batch_time"] = time.monotonic() - t_step
    ml_logger.log_metrics(metrics, step=step)


def _print_pairs(data: list[Datum], tokenizer: Any) -> None:
    """The first ten pairs of the first batch, as the cookbook logs them."""
    if tokenizer is None or not logger.isEnabledFor(logging.INFO):
        return
    chosen, rejected = split_pairs(data)
    for c, r in list(zip(chosen, rejected, strict=True))[:10]:
        print_example(c, tokenizer, "Chosen")
        print_example(r, tokenizer, "Rejected")


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
    training_client, reference_client, reference_path = _create_dpo_clients(
        config, service_client, resume, user_metadata
    )
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

    evaluators: list[Evaluator] = []
    if test_dataset is not None and len(test_dataset):
        test_data = [d for i in range(len(test_dataset)) for d in test_dataset.get_batch(i)]
        test_pairs = _paired(test_data, "test_dataset")
        evaluators += [_PairEvaluator(test_pairs, scorer, config.dpo_beta), SamplerNLLEvaluator(test_pairs)]
    evaluators += [b() for b in config.evaluator_builders]
    infrequent_evaluators = [b() for b in config.infrequent_evaluator_builders]

    def evaluate(which: list[Evaluator], step: int) -> dict[str, float]:
        return asyncio.run(run_evals(which, training_client, step))

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
        data = _paired(dataset.get_batch(batch), f"batch {batch} of epoch {epoch}")
        if epoch * n_batches + batch == 0 and logger.isEnabledFor(logging.INFO):
            _print_pairs(data, training_client.get_tokenizer())
        return data, scorer.submit(data)

    upcoming = fetch(*positions[0]) if positions else None
    for k, (epoch, batch) in enumerate(positions):
        step = epoch * n_batches + batch
        t_step = time.monotonic()
        assert upcoming is not None
        data, handles = upcoming
        lr = _learning_rate(config, step, total_steps)
        metrics: dict[str, Any] = {"epoch": epoch, **static_metrics}
        if evaluators and config.eval_every > 0 and step % config.eval_every == 0:
            metrics.update(evaluate(evaluators, step))
        if infrequent_evaluators and config.infrequent_eval_every > 0 and step % config.infrequent_eval_every == 0:
            metrics.update(evaluate(infrequent_evaluators, step))
        ref = scorer.collect(data, handles)
        cost_metrics = cost_tracker.record_step(
            TokenUsage(
                prefill_uncached=sum(full_sequence(d).length for d in data),
                trained=sum(d.model_input.length for d in data),
            )
        )
        fwd, opt = _submit_update(training_client, data, ref, config, lr)
        applied = step + 1
        save = None
        if ckpt.should_save(applied) and applied < total_steps:
            nxt = (epoch, batch + 1) if batch + 1 < n_batches else (epoch + 1, 0)
            state = {"epoch": nxt[0], "batch": nxt[1], "step": applied}
            save = ckpt.submit_periodic(applied, {**state, "cumulative_tokens": asdict(cost_tracker.cumulative)})
        upcoming = fetch(*positions[k + 1]) if k + 1 < len(positions) else None  # overlaps with this step
        metrics.update(_update_metrics(fwd, opt, data, lr, step / total_steps))  # the cookbook's DPO progress
        dpo = {key: metrics[key] for key in DPO_METRICS}
        history.append(dpo)
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
        eval_final = evaluate(evaluators, total_steps) if evaluators else {}
        if infrequent_evaluators:
            eval_final.update(evaluate(infrequent_evaluators, total_steps))
        if eval_final:
            ml.log_metrics(eval_final, step=total_steps)
        rec = ckpt.save_final(
            {
                "epoch": config.num_epochs,
                "batch": 0,
                "step": total_steps,
                "cumulative_tokens": asdict(cost_tracker.cumulative),
            }
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
