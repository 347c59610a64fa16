"""On-policy distillation (the cookbook's ``distillation.train_on_policy``), synchronous.

The cookbook's pieces, and the loop built from them: :func:`do_sync_training` evaluates the student, rolls
out every prompt group on its current sampler (:func:`tinkerlite.rl.rollouts.gather_group_rollouts`),
and calls :func:`do_train_step_and_get_sampling_client`: :func:`prepare_minibatch` turns trajectories
into datums (env reward is 0, so advantages start at 0) and :func:`incorporate_kl_penalty` adds
``−coef·reverse_kl`` against each dataset's teacher (:mod:`.kl`); then the RL layer's ``train_step``
(``num_substeps`` × ``forward_backward`` + ``optim_step``) and its full-batch metrics and next sampler
(a checkpoint when due). Teacher and student must share a tokenizer: the teacher scores the student's ids.

:func:`main` runs that loop with tinkerlite's extras (rollout ``error_policy``, ``cost/...`` metrics, a
progress line) and its exact-resume checkpoints: records hold the next batch and the applied steps, and
each is written after its step's metrics row, so a resumed run continues with the batch after the last
saved one. Differences, each deliberate: a dropped rollout group leaves with its builder and dataset
index (the cookbook filters the groups alone, misaligning the two); with ``kl_discount_factor > 0`` the
discounted KL is masked again (:mod:`.kl`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..completers import TinkerTokenCompleter
from ..display import colorize_example
from ..errors import ValidationError
from ..rl._loop_checkpointer import LoopCheckpointer
from ..rl.data_processing import assemble_training_data, compute_advantages
from ..rl.metric_util import RLTestSetEvaluator, compute_trajectory_metrics
from ..rl.rollouts import RolloutErrorCounter, gather_group_rollouts
from ..rl.train import (
    LOSS_FNS,
    compute_full_batch_metrics_and_get_sampling_client,
    rollout_usage,
    save_checkpoint_and_get_sampling_client,
    train_step,
)
from ..rl.types import EnvGroupBuilder, TrajectoryGroup
from ..types import AdamParams, Datum
from ..utils import trace
from ..utils.config import configclass, field
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing, usage_from_state
from ..utils.misc_utils import iteration_dir
from ..utils.ml_log import Logger, MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from .datasets import CompositeDataset, DistillationDatasetConfig, TeacherConfig
from .kl import incorporate_teacher_kl

__all__ = [
    "Config",
    "do_sync_training",
    "do_train_step_and_get_sampling_client",
    "incorporate_kl_penalty",
    "main",
    "prepare_minibatch",
    "run",
]

logger = logging.getLogger(__name__)


@configclass
class Config:
    """The cookbook's ``distillation.train_on_policy.Config``: same fields, order and defaults (chz with chz).

    tinkerlite additions at the end (``api_key``, ``error_policy``, Adam settings, ``show_progress``,
    ``extra``).
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


async def _teacher_client(service_client: Any, tc: TeacherConfig) -> Any:
    if tc.load_checkpoint_path:
        return await service_client.create_sampling_client(model_path=tc.load_checkpoint_path, base_model=tc.base_model)
    return await service_client.create_sampling_client(base_model=tc.base_model)


@trace.scope
async def incorporate_kl_penalty(
    data_D: list[Datum],
    teacher_clients_D: list[Any],
    dataset_indices_D: list[int],
    kl_penalty_coef: float,
    kl_discount_factor: float,
) -> dict[str, float]:
    """Score each datum's tokens under its teacher and add ``−coef·(log p_student − log p_teacher)`` (masked;
    discounted-summed when ``kl_discount_factor > 0``) to its ``advantages`` in place; returns ``teacher_kl``
    and ``teacher_kl/dataset_{i}``. The formulas are in :mod:`.kl`."""
    return await incorporate_teacher_kl(
        data_D, teacher_clients_D, dataset_indices_D, kl_penalty_coef, kl_discount_factor
    )


@trace.scope
async def prepare_minibatch(
    env_group_builders_P: Sequence[EnvGroupBuilder],
    trajectory_groups_P: list[TrajectoryGroup],
    tokenizer: Any,
    dataset_indices_P: list[int],
    teacher_clients: list[Any],
    kl_penalty_coef: float,
    kl_discount_factor: float,
) -> tuple[list[Datum], dict[str, Any]]:
    """Trajectory groups to datums (advantages start at the env reward, 0 here), with the groups' metrics,
    one datum per dataset logged, and the teacher KL folded in (each datum scored by its dataset's
    teacher, ``teacher_clients[dataset_indices_P[group]]``) when ``kl_penalty_coef > 0``."""
    metrics: dict[str, Any] = {}
    metrics.update(compute_trajectory_metrics(trajectory_groups_P, [b.logging_tags() for b in env_group_builders_P]))
    async with trace.scope_span("assemble_training_data"):
        data_D, metadata_D = assemble_training_data(trajectory_groups_P, compute_advantages(trajectory_groups_P))
    ds_D = [dataset_indices_P[m["group_idx"]] for m in metadata_D]
    if tokenizer is not None and logger.isEnabledFor(logging.INFO):
        printed: set[int] = set()
        for datum, ds in zip(data_D, ds_D, strict=True):
            if ds not in printed:
                logger.info(colorize_example(datum, tokenizer, key="mask"))
                printed.add(ds)
    if kl_penalty_coef > 0:
        async with trace.scope_span("compute_kl_penalty"):
            metrics.update(
                await incorporate_kl_penalty(
                    data_D, [teacher_clients[i] for i in ds_D], ds_D, kl_penalty_coef, kl_discount_factor
                )
            )
    return data_D, metrics


@dataclass
class _LoopExtras:
    """What tinkerlite's own loop adds to the cookbook's step: token costs, the rollout error counter, the
    progress line, and the checkpoint records written after each metrics row."""

    cost_tracker: CostTracker | None = None
    counter: RolloutErrorCounter = dc_field(default_factory=RolloutErrorCounter)
    progress: ProgressLine | None = None
    history: list[float] = dc_field(default_factory=list)
    on_logged: Callable[[], Awaitable[None]] | None = None


class _AdamSettings:
    """The training client as ``train_step`` sees it, its ``optim_step`` given this config's Adam betas and
    eps (``train_step`` uses the cookbook's fixed 0.9 / 0.95 / 1e-8)."""

    def __init__(self, inner: Any, config: Config) -> None:
        self._inner, self._config = inner, config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def optim_step(self, params: AdamParams) -> Any:
        c = self._config
        return self._inner.optim_step(
            AdamParams(learning_rate=params.learning_rate, beta1=c.adam_beta1, beta2=c.adam_beta2, eps=c.adam_eps)
        )


def _with_adam_settings(training_client: Any, config: Config) -> Any:
    if (config.adam_beta1, config.adam_beta2, config.adam_eps) == (0.9, 0.95, 1e-8):
        return training_client
    return _AdamSettings(training_client, config)


async def _train_step(
    config: Config,
    i_batch: int,
    training_client: Any,
    checkpoint_mgr: Any,
    tokenizer: Any,
    env_group_builders_P: Sequence[EnvGroupBuilder],
    trajectory_groups_P: list[TrajectoryGroup],
    dataset_indices_P: list[int],
    teacher_clients: list[Any],
    cost_tracker: CostTracker | None,
) -> tuple[Any, dict[str, Any], list[Datum]]:
    trace.update_scope_context({"step": i_batch})
    metrics: dict[str, Any] = {}
    data_D, prep = await prepare_minibatch(
        env_group_builders_P,
        trajectory_groups_P,
        tokenizer,
        dataset_indices_P,
        teacher_clients,
        kl_penalty_coef=config.kl_penalty_coef,
        kl_discount_factor=config.kl_discount_factor,
    )
    metrics.update(prep)
    async with trace.scope_span("train"):
        training_logprobs_D = await train_step(
            data_D=data_D,
            training_client=_with_adam_settings(training_client, config),
            learning_rate=config.learning_rate,
            num_substeps=config.num_substeps,
            loss_fn=config.loss_fn,
            loss_fn_config=config.loss_fn_config,
            metrics=metrics,
        )
    # The rollouts' sampling and prefill, and the teacher's scoring of each full sequence (a prefill);
    # the trained tokens are added by the full-batch step.
    teacher = sum(d.model_input.length + 1 for d in data_D) if config.kl_penalty_coef > 0 else 0
    usage = rollout_usage(trajectory_groups_P) + TokenUsage(prefill_uncached=teacher)
    sampling_client, full = await compute_full_batch_metrics_and_get_sampling_client(
        training_client,
        checkpoint_mgr,
        i_batch + 1,  # the checkpoint after this step holds i_batch + 1 steps
        data_D,
        training_logprobs_D,
        config.compute_post_kl,
        usage=usage,
        cost_tracker=cost_tracker,
    )
    metrics.update(full)
    return sampling_client, metrics, data_D


@trace.scope
async def do_train_step_and_get_sampling_client(
    config: Config,
    i_batch: int,
    training_client: Any,
    checkpoint_mgr: Any,
    service_client: Any,
    tokenizer: Any,
    env_group_builders_P: Sequence[EnvGroupBuilder],
    trajectory_groups_P: list[TrajectoryGroup],
    dataset_indices_P: list[int],
    teacher_clients: list[Any],
    store: Any | None = None,
) -> tuple[Any, dict[str, Any]]:
    """One step: :func:`prepare_minibatch`, ``num_substeps`` × (``forward_backward`` + ``optim_step``)
    (:func:`tinkerlite.rl.train.train_step`), then the sample-vs-train KL and a sampler on the new weights,
    from a checkpoint named ``i_batch + 1`` when ``checkpoint_mgr`` has one due."""
    sampling_client, metrics, _ = await _train_step(
        config,
        i_batch,
        training_client,
        checkpoint_mgr,
        tokenizer,
        env_group_builders_P,
        trajectory_groups_P,
        dataset_indices_P,
        teacher_clients,
        None,
    )
    return sampling_client, metrics


@trace.scope
async def do_sync_training(
    start_batch: int,
    end_batch: int,
    num_batches: int,
    config: Config,
    training_client: Any,
    checkpoint_mgr: Any,
    service_client: Any,
    evaluators: list[Any],
    dataset: CompositeDataset,
    teacher_clients: list[Any],
    ml_logger: Logger,
    tokenizer: Any,
) -> None:
    """Fully synchronous on-policy distillation over batches ``start_batch .. end_batch - 1``: per batch,
    evaluate the current student (every ``eval_every``, as ``test/...``), roll out every prompt group on
    it, train one step (:func:`do_train_step_and_get_sampling_client`) and log the row."""
    await _sync_training(
        start_batch,
        end_batch,
        num_batches,
        config,
        training_client,
        checkpoint_mgr,
        evaluators,
        dataset,
        teacher_clients,
        ml_logger,
        tokenizer,
        _LoopExtras(),
    )


async def _run_evals(evaluators: list[Any], sampling_client: Any) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for evaluator in evaluators:
        value = evaluator(sampling_client)
        result = await value if inspect.isawaitable(value) else value
        metrics.update({f"test/{k}": v for k, v in result.items()})
    return metrics


async def _sync_training(
    start_batch: int,
    end_batch: int,
    num_batches: int,
    config: Config,
    training_client: Any,
    checkpoint_mgr: Any,
    evaluators: list[Any],
    dataset: CompositeDataset,
    teacher_clients: list[Any],
    ml_logger: Logger,
    tokenizer: Any,
    extras: _LoopExtras,
) -> Any:
    """:func:`do_sync_training` with tinkerlite's extras; returns the last sampling client."""
    sampling_client, _ = await save_checkpoint_and_get_sampling_client(
        training_client, checkpoint_mgr, start_batch, start_batch
    )
    for i_batch in range(start_batch, end_batch):
        metrics: dict[str, Any] = {
            "progress/batch": i_batch,
            "optim/lr": config.learning_rate,
            "progress/done_frac": (i_batch + 1) / num_batches,
        }
        with trace.trace_iteration(step=i_batch) as window:
            if evaluators and config.eval_every > 0 and i_batch % config.eval_every == 0:
                async with trace.scope_span("run_evals"):
                    metrics.update(await _run_evals(evaluators, sampling_client))
            builders_P, indices_P = dataset.get_batch(i_batch)
            policy = TinkerTokenCompleter(sampling_client, config.max_tokens, config.temperature)
            async with trace.scope_span("sample"):
                groups = await gather_group_rollouts(
                    builders_P,
                    policy,
                    error_policy=config.error_policy,  # type: ignore[arg-type]
                    counter=extras.counter,
                )
            # A failed group (error_policy="drop") leaves with its builder and dataset index, so the three
            # stay aligned (the cookbook filters the groups alone).
            kept = [(b, i, g) for b, i, g in zip(builders_P, indices_P, groups, strict=True) if g is not None]
            if not kept:
                raise ValidationError(f"batch {i_batch}: every rollout group failed", field="rollouts")
            sampling_client, step_metrics, data_D = await _train_step(
                config,
                i_batch,
                training_client,
                checkpoint_mgr,
                tokenizer,
                [b for b, _, _ in kept],
                [g for _, _, g in kept],
                [i for _, i, _ in kept],
                teacher_clients,
                extras.cost_tracker,
            )
            metrics.update(step_metrics)
            metrics.update(extras.counter.get_metrics())
        metrics.update(window.get_timing_metrics())
        window.save_timing(i_batch, store=ml_logger.store)
        if config.span_chart_every > 0 and i_batch % config.span_chart_every == 0:
            iter_dir = iteration_dir(config.log_path, i_batch)
            if iter_dir is not None:
                iter_dir.mkdir(parents=True, exist_ok=True)
                trace.save_gantt_chart_html(window, i_batch, iter_dir / "timing_gantt.html")
        ml_logger.log_metrics(metrics, step=i_batch)
        if extras.on_logged is not None:  # the step's checkpoint record after its row: a crash re-runs it
            await extras.on_logged()
        kl = float(metrics.get("teacher_kl", math.nan))
        extras.history.append(kl)
        if extras.progress is not None:
            n_tok = sum(d.model_input.length for d in data_D)
            extras.progress.update(i_batch - start_batch, kl, n_tok, f"teacher_kl {kl:.4f}")
    return sampling_client


async def main(config: Config, *, service_client: Any | None = None) -> dict[str, Any]:
    """Train; returns a summary with the ``teacher_kl`` of every step and the final checkpoint."""
    if config.num_substeps < 1:
        raise ValidationError(f"must be >= 1, got {config.num_substeps}", field="num_substeps")
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
    if config.enable_trace:
        trace.trace_init(output_file=str(Path(config.log_path) / "trace_events.jsonl"))
    owns = service_client is None
    if service_client is None:
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(
            base_url=config.base_url,
            api_key=config.api_key,
            display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
        )
    try:
        return await _train(config, service_client, dataset, [t for _, t in built], resume, ml)
    finally:
        ml.close()
        if owns:
            service_client.close()


async def _train(
    config: Config,
    service_client: Any,
    dataset: CompositeDataset,
    test_datasets: list[Any],
    resume: Any,
    ml: MultiplexLogger,
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
    evaluators = [b() for b in config.evaluator_builders]
    evaluators += [RLTestSetEvaluator(t, max_tokens=config.max_tokens) for t in test_datasets if t is not None]

    num_batches = len(dataset)
    end = num_batches if config.max_steps is None else min(num_batches, config.max_steps)
    start = int(resume.batch or 0) if resume is not None else 0
    # Rows from the restart point on are re-run, so they go (all of them when no checkpoint exists yet).
    dropped = ml.truncate_metrics(start)
    if dropped:
        logger.info("dropped %d metrics rows of batches that will be re-run from batch %d", dropped, start)
    ckpt = LoopCheckpointer(_StepCheckpointer(training_client, config.log_path, config.save_every, None), end)
    extras = _LoopExtras(
        cost_tracker=CostTracker(
            fetch_model_pricing(config.model_name),
            cumulative=usage_from_state(resume.get("cumulative_tokens") if resume is not None else None),
        ),
        progress=ProgressLine(end - start) if config.show_progress else None,
        on_logged=ckpt.flush,
    )
    tokenizer = training_client.get_tokenizer() if logger.isEnabledFor(logging.INFO) else None
    await _sync_training(
        start, end, num_batches, config, training_client, ckpt, evaluators, dataset, teachers, ml, tokenizer, extras
    )

    final: dict[str, Any] = {}
    if end > start:
        assert extras.cost_tracker is not None
        final_state = {"batch": end, "step": end, "cumulative_tokens": asdict(extras.cost_tracker.cumulative)}
        final.update(await ckpt.save_final_async(final_state))
        if evaluators and config.eval_every > 0:
            eval_final = await _run_evals(evaluators, await training_client.save_weights_and_get_sampling_client())
            ml.log_metrics(eval_final, step=end)
            final.update(eval_final)
    else:
        logger.info("training was already complete; nothing to do")
        await ckpt.finalize_async()
    return {
        "steps_run": max(0, end - start),
        "teacher_kl_history": extras.history,
        "training_client": training_client,
        **final,
    }


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    return asyncio.run(main(config, service_client=service_client))
