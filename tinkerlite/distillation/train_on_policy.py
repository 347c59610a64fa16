"""On-policy distillation (the cookbook's ``distillation.train_on_policy``), synchronous.

Per batch: snapshot the student for sampling; roll out every prompt group with it
(:func:`tinkerlite.rl.rollouts.gather_group_rollouts`); turn trajectories into datums with the RL
layer's ``compute_advantages``/``assemble_training_data`` (env reward is 0, so advantages start at 0);
score each datum's tokens under its dataset's teacher and add ``−coef·reverse_kl`` to the advantages
(:mod:`.kl`); then one ``importance_sampling`` ``forward_backward`` + ``optim_step`` per substep.
Teacher and student must share a tokenizer: the teacher scores the student's token ids.

Checkpoints record the next batch and the number of applied steps, so a resumed run continues with
the batch after the last saved one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..completers import TinkerTokenCompleter
from ..errors import ValidationError
from ..rl.data_processing import assemble_training_data, compute_advantages, remove_mask
from ..rl.metric_util import compute_trajectory_metrics
from ..rl.metrics import compute_kl_sample_train
from ..rl.rollouts import RolloutErrorCounter, gather_group_rollouts
from ..rl.train import rollout_usage, training_usage
from ..types import AdamParams, Datum
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing, usage_from_state
from ..utils.ml_log import MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from .datasets import CompositeDataset, DistillationDatasetConfig, TeacherConfig
from .kl import incorporate_teacher_kl

__all__ = ["Config", "main", "run"]

logger = logging.getLogger(__name__)


@configclass
class Config:
    """The cookbook's ``distillation.train_on_policy.Config``: same fields, order and defaults (chz with chz).

    tinkerlite additions at the end (``api_key``, ``error_policy``, Adam settings, ``show_progress``,
    ``extra``). Cookbook fields whose feature tinkerlite lacks are accepted at their defaults; any other
    value is refused up front, naming the field.
    """

    learning_rate: float
    dataset_configs: list[DistillationDatasetConfig]
    model_name: str
    recipe_name: str
    renderer_name: str | None = None
    max_tokens: int
    temperature: float = 1.0
    compute_post_kl: bool = False
    evaluator_builders: list[Any] = field(default_factory=list)
    """Sampling-client evaluators, run on the student every ``eval_every`` batches and at the end."""
    lora_rank: int = 32
    kl_penalty_coef: float = 1.0
    kl_discount_factor: float = 0.0
    loss_fn: str = "importance_sampling"
    loss_fn_config: dict[str, Any] | None = None
    num_substeps: int = 1
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    base_url: str | None = None
    enable_trace: bool = False
    span_chart_every: int = 0
    eval_every: int = 20
    save_every: int = 20
    load_checkpoint_path: str | None = None
    max_steps: int | None = None
    # tinkerlite additions
    api_key: str | None = None
    error_policy: str = "fail_fast"
    """Rollout failures: ``fail_fast`` stops the run; ``drop`` skips and counts them (``rollout_errors/...``)."""
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    show_progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @validate
    def _check_supported(self) -> None:
        refuse_unsupported(self, compute_post_kl=False, enable_trace=False, span_chart_every=0)


async def _teacher_client(service_client: Any, tc: TeacherConfig) -> Any:
    if tc.load_checkpoint_path:
        return await service_client.create_sampling_client(model_path=tc.load_checkpoint_path, base_model=tc.base_model)
    return await service_client.create_sampling_client(base_model=tc.base_model)


def _split(data: list[Datum], n: int) -> list[list[Datum]]:
    size = -(-len(data) // n)
    return [data[i : i + size] for i in range(0, len(data), size)]


async def main(config: Config, *, service_client: Any | None = None) -> dict[str, Any]:
    """Train; returns a summary with the first and last ``teacher_kl`` and the final checkpoint."""
    if config.num_substeps < 1:
        raise ValidationError(f"must be >= 1, got {config.num_substeps}", field="num_substeps")
    from ..rl.train import LOSS_FNS

    if config.loss_fn not in LOSS_FNS:
        raise ValidationError(f"must be one of {', '.join(LOSS_FNS)}; got {config.loss_fn!r}", field="loss_fn")
    if not config.dataset_configs:
        raise ValidationError("need at least one dataset config", field="dataset_configs")
    built = [await dc.dataset_builder() for dc in config.dataset_configs]
    dataset = CompositeDataset([d for d, _ in built], [dc.groups_per_batch for dc in config.dataset_configs])
    if len(dataset) == 0:
        raise ValidationError("the datasets have no batch", field="dataset_configs")
    resume = get_last_checkpoint(config.log_path)
    ml = setup_logging(
        config.log_path, config.wandb_project, config.wandb_name, config=config, do_configure_logging_module=False
    )
    owns = service_client is None
    if service_client is None:
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(
            base_url=config.base_url,
            api_key=config.api_key,
            display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
        )
    try:
        return await _train(config, service_client, dataset, resume, ml)
    finally:
        ml.close()
        if owns:
            service_client.close()


async def _train(
    config: Config, service_client: Any, dataset: CompositeDataset, resume: Any, ml: MultiplexLogger
) -> dict[str, Any]:
    if resume is not None:
        training_client = await service_client.create_training_client_from_state_with_optimizer(resume.state_path)
    elif config.load_checkpoint_path:
        training_client = await service_client.create_training_client_from_state(config.load_checkpoint_path)
    else:
        metadata = {"recipe": config.recipe_name}
        if config.renderer_name:
            metadata["renderer_name"] = config.renderer_name
        training_client = await service_client.create_lora_training_client(
            base_model=config.model_name, rank=config.lora_rank, user_metadata=metadata
        )
    teachers = [await _teacher_client(service_client, dc.teacher_config) for dc in config.dataset_configs]

    num_batches = len(dataset)
    end = num_batches if config.max_steps is None else min(num_batches, config.max_steps)
    start = 0
    if resume is not None:
        start = int(resume.batch or 0)
    # Rows from the restart point on are re-run, so they go (all of them when no checkpoint exists yet).
    dropped = ml.truncate_metrics(start)
    if dropped:
        logger.info("dropped %d metrics rows of batches that will be re-run from batch %d", dropped, start)
    ckpt = _StepCheckpointer(training_client, config.log_path, config.save_every, None)
    progress = ProgressLine(end - start) if config.show_progress else None
    counter = RolloutErrorCounter()
    history: list[float] = []
    adam = AdamParams(
        learning_rate=config.learning_rate, beta1=config.adam_beta1, beta2=config.adam_beta2, eps=config.adam_eps
    )
    evaluators = [b() for b in config.evaluator_builders]
    cost_tracker = CostTracker(
        fetch_model_pricing(config.model_name),
        cumulative=usage_from_state(resume.get("cumulative_tokens") if resume is not None else None),
    )

    async def run_evals(sampling_client: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for ev in evaluators:
            value = ev(sampling_client)
            out.update(await value if inspect.isawaitable(value) else value)
        return out

    for i_batch in range(start, end):
        t_step = time.monotonic()
        metrics: dict[str, Any] = {
            "progress/batch": i_batch,
            "optim/lr": config.learning_rate,
            "progress/done_frac": (i_batch + 1) / num_batches,
        }
        sampling_client = await training_client.save_weights_and_get_sampling_client()
        if evaluators and config.eval_every > 0 and i_batch % config.eval_every == 0:
            metrics.update(await run_evals(sampling_client))
        policy = TinkerTokenCompleter(sampling_client, config.max_tokens, config.temperature)
        builders, ds_idx = dataset.get_batch(i_batch)
        results = await gather_group_rollouts(
            builders,
            policy,
            error_policy=config.error_policy,  # type: ignore[arg-type]
            counter=counter,
        )
        kept = [(b, i, g) for b, i, g in zip(builders, ds_idx, results, strict=True) if g is not None]
        if not kept:
            raise ValidationError(f"batch {i_batch}: every rollout group failed", field="rollouts")
        groups = [g for _, _, g in kept]
        metrics.update(compute_trajectory_metrics(groups, [b.logging_tags() for b, _, _ in kept]))
        data_D, meta_D = assemble_training_data(groups, compute_advantages(groups))
        if config.kl_penalty_coef > 0:
            group_ds = [i for _, i, _ in kept]
            ds_D = [group_ds[m["group_idx"]] for m in meta_D]
            metrics.update(
                await incorporate_teacher_kl(
                    data_D, [teachers[i] for i in ds_D], ds_D, config.kl_penalty_coef, config.kl_discount_factor
                )
            )
        training_logprobs: list[Any] = []
        for sub in _split(data_D, config.num_substeps):
            fwd = training_client.forward_backward([remove_mask(d) for d in sub], config.loss_fn, config.loss_fn_config)
            opt = training_client.optim_step(adam)
            out = await fwd
            opt_out = await opt
            training_logprobs += [o["logprobs"] for o in out.loss_fn_outputs]
            if getattr(opt_out, "metrics", None):
                metrics.update(opt_out.metrics)
        metrics.update(compute_kl_sample_train(data_D, training_logprobs))
        metrics.update(counter.get_metrics())
        # The rollouts' sampling and prefill, the trained datums, and the teacher's scoring of each full
        # sequence (a prefill) when the KL penalty is on.
        teacher = sum(d.model_input.length + 1 for d in data_D) if config.kl_penalty_coef > 0 else 0
        usage = rollout_usage(groups) + training_usage(data_D) + TokenUsage(prefill_uncached=teacher)
        metrics.update(cost_tracker.record_step(usage))
        applied = i_batch + 1
        save = None
        if ckpt.should_save(applied) and applied < end:
            state = {"batch": applied, "step": applied, "cumulative_tokens": asdict(cost_tracker.cumulative)}
            save = ckpt.submit_periodic(applied, state)
        metrics["time/total"] = time.monotonic() - t_step  # this step's wall time, as the cookbook logs it
        ml.log_metrics(metrics, step=i_batch)
        if save is not None:  # the record after the step's row: a crash between them re-runs, never skips
            await asyncio.to_thread(save.finish_or_warn)
        kl = float(metrics.get("teacher_kl", float("nan")))
        history.append(kl)
        if progress is not None:
            n_tok = sum(d.model_input.length for d in data_D)
            progress.update(i_batch - start, kl, n_tok, f"teacher_kl {kl:.4f}")

    final: dict[str, Any] = {}
    if end > start:
        final_state = {"batch": end, "step": end, "cumulative_tokens": asdict(cost_tracker.cumulative)}
        rec = await asyncio.to_thread(ckpt.save_final, final_state)
        final = {"state_path": rec.state_path, "sampler_path": rec.sampler_path}
        if evaluators and config.eval_every > 0:
            eval_final = await run_evals(await training_client.save_weights_and_get_sampling_client())
            ml.log_metrics(eval_final, step=end)
            final.update(eval_final)
    return {
        "steps_run": max(0, end - start),
        "teacher_kl_history": history,
        "training_client": training_client,
        **final,
    }


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    return asyncio.run(main(config, service_client=service_client))
