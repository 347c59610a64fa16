"""The cookbook's three RL training loops (``rl.train``): ``do_sync_training``,
``do_sync_training_with_stream_minibatch`` and ``do_async_training``, re-exported by :mod:`.train`.

They are tinkerlite's loops too: :func:`.train.main` calls them with a hooks object in ``_RUN_HOOKS``
(``train._Trainer``), which adds what tinkerlite's runs do beyond the cookbook's: seeded sampling that
does not depend on completion order, ``error_policy``/``max_turns``, the per-iteration rollout files with
the token sidecar, the progress line, and checkpoint records written after the step's metrics row. Called
directly, as cookbook code calls them, there are no hooks and they behave as the cookbook's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from ..errors import ValidationError
from ..utils import trace
from ..utils.misc_utils import iteration_dir
from ._cost_accounting import DiscardedWorkLog, count_discarded_rollout, drop_constant_reward_group
from ._train_reporting import gather_with_progress
from ._train_steps import (
    _RUN_HOOKS,
    WrappedTrajectoryGroup,
    _cb,
    _loop_state,
    _Shutdown,
)
from .data_processing import remove_constant_reward_groups
from .rollout_logging import RolloutSummaryGroup, serialize_rollout_summaries_from_groups
from .types import EnvGroupBuilder, TrajectoryGroup

__all__ = ["do_sync_training", "do_sync_training_with_stream_minibatch"]

logger = logging.getLogger("tinkerlite.rl.train")


def _should_run_evals(evaluators: list[Any], config: Any, step: int, *, end_step: int | None) -> bool:
    return bool(evaluators) and config.eval_every > 0 and (step == end_step or step % config.eval_every == 0)


async def _maybe_run_evals(
    hooks: Any,
    evaluators: list[Any],
    sampling_client: Any,
    config: Any,
    step: int,
    ml_logger: Any,
    *,
    end_step: int | None,
) -> dict[str, Any]:
    if hooks is not None:
        return dict(await hooks.evaluate(step, sampling_client, end_step=end_step))
    if not _should_run_evals(evaluators, config, step, end_step=end_step):
        return {}
    async with trace.scope_span("run_evals"):
        metrics: dict[str, Any] = await _cb().run_evaluations_parallel(
            evaluators, sampling_client, config, step, store=ml_logger.store
        )
        return metrics


def _export(
    hooks: Any, config: Any, ml_logger: Any, step: int, groups: list[tuple[EnvGroupBuilder, TrajectoryGroup, int]]
) -> None:
    """The iteration's rollout summaries: through the run's store (cookbook), or tinkerlite's files."""
    if hooks is not None:
        hooks.export(step, groups)
        return
    _cb()._maybe_export_rollout_summary_jsonl(
        config=config,
        base_name="train",
        split="train",
        iteration=step,
        groups_P=[RolloutSummaryGroup(g, b.logging_tags(), s) for b, g, s in groups],
        store=ml_logger.store,
    )


def _maybe_export_rollout_summary_jsonl(
    *, config: Any, base_name: str, split: str, iteration: int, groups_P: Sequence[RolloutSummaryGroup], store: Any
) -> None:
    """The cookbook's export: per-trajectory rollout summaries through the run's store, when enabled."""
    if not config.rollout_json_export or store is None:
        return
    records = serialize_rollout_summaries_from_groups(split=split, iteration=iteration, groups_P=groups_P)
    store.write_rollouts(iteration, records, base_name=base_name)


def _transcript_scope(hooks: Any, config: Any, step: int, ml_logger: Any) -> Any:
    return _cb()._get_logtree_scope(
        iteration_dir(config.log_path, step),
        config.num_groups_to_log,
        "train",
        f"RL Iteration {step}",
        iteration=step,
        store=ml_logger.store,
    )


async def _log_step(
    hooks: Any,
    window: Any,
    config: Any,
    ml_logger: Any,
    step: int,
    metrics: dict[str, Any],
    error_counter: Any,
    discarded_log: DiscardedWorkLog,
) -> None:
    metrics.update(window.get_timing_metrics())
    if error_counter is not None:
        metrics.update(error_counter.get_metrics())
    window.save_timing(step, store=ml_logger.store)
    iter_dir = iteration_dir(config.log_path, step)
    if config.span_chart_every > 0 and step % config.span_chart_every == 0 and iter_dir is not None:
        iter_dir.mkdir(parents=True, exist_ok=True)
        trace.save_gantt_chart_html(window, step, iter_dir / "timing_gantt.html")
    if hooks is not None:
        hooks.before_log(step, metrics)
    ml_logger.log_metrics(metrics, step=step)
    discarded_log.step_logged()
    if hooks is not None:
        await hooks.after_log(step)


async def _start_step(
    hooks: Any,
    evaluators: list[Any],
    sampling_client: Any,
    config: Any,
    step: int,
    ml_logger: Any,
    end_batch: int,
    num_batches: int,
) -> dict[str, Any]:
    """A sync step's first metrics: its position, then the evaluations due before it trains."""
    metrics: dict[str, Any] = {
        "progress/batch": step,
        "optim/lr": config.learning_rate,
        "progress/done_frac": (step + 1) / num_batches,
    }
    metrics.update(
        await _maybe_run_evals(hooks, evaluators, sampling_client, config, step, ml_logger, end_step=end_batch)
    )
    return metrics


async def _first_sampling_client(training_client: Any, checkpoint_mgr: Any, start_batch: int, config: Any) -> Any:
    if checkpoint_mgr is None:
        raise ValidationError("the RL loops need a CheckpointManager", field="checkpoint_mgr")
    client, _ = await _cb().save_checkpoint_and_get_sampling_client(
        training_client, checkpoint_mgr, start_batch, start_batch, record_stability_info=config.records_stability_info()
    )
    return client


async def _final_evals(
    hooks: Any, evaluators: list[Any], sampling_client: Any, config: Any, end_batch: int, ml_logger: Any
) -> None:
    """Evals run before each step's training, so the final weights need one more."""
    final = await _maybe_run_evals(hooks, evaluators, sampling_client, config, end_batch, ml_logger, end_step=end_batch)
    if final:
        ml_logger.log_metrics(final, step=end_batch)


@trace.scope
async def do_sync_training(
    start_batch: int,
    end_batch: int,
    num_batches: int,
    config: Any,
    training_client: Any,
    kl_reference_client: Any | None,
    evaluators: list[Any],
    dataset: Any,
    ml_logger: Any,
    tokenizer: Any,
    error_counter: Any | None = None,
    strategy: Any | None = None,
    checkpoint_mgr: Any | None = None,
    cost_tracker: Any | None = None,
) -> None:
    """Fully on-policy: each step samples every group of its batch with the current weights, trains on
    them (:func:`do_train_step_and_get_sampling_client`) and samples the next step from the new weights."""
    hooks = _RUN_HOOKS.get()
    discarded_log = DiscardedWorkLog(cost_tracker, ml_logger)
    sampling_client = await _first_sampling_client(training_client, checkpoint_mgr, start_batch, config)
    for i_batch in range(start_batch, end_batch):
        with trace.trace_iteration(step=i_batch) as window:
            metrics = await _start_step(
                hooks, evaluators, sampling_client, config, i_batch, ml_logger, end_batch, num_batches
            )
            builders = list(dataset.get_batch(i_batch))
            t0 = time.monotonic()
            async with trace.scope_span("sampling"):
                with _transcript_scope(hooks, config, i_batch, ml_logger):
                    if hooks is not None:
                        results = await hooks.rollout_batch(sampling_client, i_batch, builders)
                    else:
                        results = await gather_with_progress(
                            (
                                _cb().do_group_rollout_and_filter_constant_reward(
                                    sampling_client,
                                    builder,
                                    max_tokens=config.max_tokens,
                                    temperature=config.temperature,
                                    do_remove_constant_reward_groups=False,
                                    enable_logging=i < config.num_groups_to_log,
                                    strategy=strategy,
                                    termination=config.effective_termination(),
                                )
                                for i, builder in enumerate(builders)
                            ),
                            desc=f"Sampling batch {i_batch}",
                        )
            if hooks is not None:  # tinkerlite's rows also time the phases (the cookbook's: trace spans)
                metrics["time/sample"] = time.monotonic() - t0
            if error_counter is not None and hooks is None:
                for r in results:
                    error_counter.ingest(r)
            kept = [(b, g) for b, g in zip(builders, results, strict=True) if g is not None]
            if not kept:
                logger.warning("Batch %d: all groups failed or filtered, skipping batch", i_batch)
            else:
                _export(hooks, config, ml_logger, i_batch, [(b, g, i_batch) for b, g in kept])
                kept_builders, groups = [b for b, _ in kept], [g for _, g in kept]
                if config.remove_constant_reward_groups:
                    kept_groups = remove_constant_reward_groups(groups)
                    kept_ids = {id(g) for g in kept_groups}
                    for g in groups:
                        if id(g) not in kept_ids:
                            count_discarded_rollout(cost_tracker, g)
                            discarded_log.discarded(i_batch)
                    kept_builders = [b for b, g in zip(kept_builders, groups, strict=True) if id(g) in kept_ids]
                    groups = kept_groups
                t1 = time.monotonic()
                sampling_client, step_metrics = await _cb().do_train_step_and_get_sampling_client(
                    config,
                    i_batch,
                    training_client,
                    checkpoint_mgr,
                    kl_reference_client,
                    tokenizer,
                    kept_builders,
                    groups,
                    cost_tracker=cost_tracker,
                )
                metrics.update(step_metrics)
                if hooks is not None:
                    metrics["time/train"] = time.monotonic() - t1
                if checkpoint_mgr is not None:  # rolling save (a no-op unless rolling_save_every)
                    await checkpoint_mgr.maybe_save_rolling_async(
                        step=i_batch + 1, loop_state=_loop_state(i_batch + 1, cost_tracker)
                    )
        await _log_step(hooks, window, config, ml_logger, i_batch, metrics, error_counter, discarded_log)
    if start_batch < end_batch:
        await _final_evals(hooks, evaluators, sampling_client, config, end_batch, ml_logger)


async def _rollout_one(
    hooks: Any,
    config: Any,
    sampling_client: Any,
    step: int,
    builder: EnvGroupBuilder,
    index: int,
    strategy: Any,
    enable_logging: bool,
) -> TrajectoryGroup | None:
    if hooks is not None:
        group: TrajectoryGroup | None = await hooks.rollout_group(sampling_client, step, builder, index)
        return group
    rolled: TrajectoryGroup | None = await _cb().do_group_rollout_and_filter_constant_reward(
        sampling_client,
        builder,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        do_remove_constant_reward_groups=False,
        enable_logging=enable_logging,
        strategy=strategy,
        termination=config.effective_termination(),
    )
    return rolled


@trace.scope
async def do_sync_training_with_stream_minibatch(
    start_batch: int,
    end_batch: int,
    num_batches: int,
    config: Any,
    training_client: Any,
    kl_reference_client: Any | None,
    evaluators: list[Any],
    dataset: Any,
    ml_logger: Any,
    tokenizer: Any,
    error_counter: Any | None = None,
    strategy: Any | None = None,
    checkpoint_mgr: Any | None = None,
    cost_tracker: Any | None = None,
) -> None:
    """On-policy with streaming minibatches: each step's groups are sampled concurrently and trained as
    soon as a minibatch is in (:func:`do_train_step_streaming_and_get_sampling_client`)."""
    hooks = _RUN_HOOKS.get()
    discarded_log = DiscardedWorkLog(cost_tracker, ml_logger)
    sampling_client = await _first_sampling_client(training_client, checkpoint_mgr, start_batch, config)
    for i_batch in range(start_batch, end_batch):
        with trace.trace_iteration(step=i_batch) as window:
            metrics = await _start_step(
                hooks, evaluators, sampling_client, config, i_batch, ml_logger, end_batch, num_batches
            )
            t0 = time.monotonic()
            with _transcript_scope(hooks, config, i_batch, ml_logger):
                queue: asyncio.Queue[WrappedTrajectoryGroup | _Shutdown | None] = asyncio.Queue()
                tasks = [
                    asyncio.create_task(
                        _stream_worker(
                            hooks,
                            config,
                            sampling_client,
                            i_batch,
                            b,
                            i,
                            strategy,
                            queue,
                            cost_tracker,
                            discarded_log,
                            error_counter,
                        ),
                        name=f"trajectory_group_worker_task_{i}",
                    )
                    for i, b in enumerate(dataset.get_batch(i_batch))
                ]
                try:
                    result = await _streaming_step(
                        config,
                        i_batch,
                        queue,
                        training_client,
                        checkpoint_mgr,
                        kl_reference_client,
                        tokenizer,
                        cost_tracker,
                        tasks,
                    )
                finally:
                    for t in tasks:
                        t.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                new_client, step_metrics, trained = result
                if new_client is not None:
                    sampling_client = new_client
            if hooks is not None:
                metrics["time/sample_and_train"] = time.monotonic() - t0
            _export(
                hooks, config, ml_logger, i_batch, [(g.env_group_builder, g.trajectory_group, i_batch) for g in trained]
            )
        if checkpoint_mgr is not None:  # rolling save (a no-op unless rolling_save_every)
            await checkpoint_mgr.maybe_save_rolling_async(
                step=i_batch + 1, loop_state=_loop_state(i_batch + 1, cost_tracker)
            )
        metrics.update(step_metrics)
        await _log_step(hooks, window, config, ml_logger, i_batch, metrics, error_counter, discarded_log)
    if start_batch < end_batch:
        await _final_evals(hooks, evaluators, sampling_client, config, end_batch, ml_logger)


async def _stream_worker(
    hooks: Any,
    config: Any,
    sampling_client: Any,
    step: int,
    builder: EnvGroupBuilder,
    index: int,
    strategy: Any,
    queue: asyncio.Queue[Any],
    cost_tracker: Any,
    discarded_log: DiscardedWorkLog,
    error_counter: Any,
) -> None:
    """One group of a streaming step: rolled out, filtered, and queued (None when it was dropped)."""
    started = time.monotonic()
    async with trace.scope_span("trajectory_group_worker"):
        group = await _rollout_one(
            hooks, config, sampling_client, step, builder, index, strategy, index < config.num_groups_to_log
        )
    group = drop_constant_reward_group(group, config, cost_tracker, discarded_log, step)
    if error_counter is not None and hooks is None:
        error_counter.ingest(group)
    if group is None:
        queue.put_nowait(None)
        return
    took = {"time/trajectory_group_worker_loop/total": time.monotonic() - started}
    queue.put_nowait(
        WrappedTrajectoryGroup(
            trajectory_group=group, env_group_builder=builder, sampling_client_step=step, metrics=took
        )
    )


async def _streaming_step(
    config: Any,
    i_batch: int,
    queue: asyncio.Queue[Any],
    training_client: Any,
    checkpoint_mgr: Any,
    kl_reference_client: Any,
    tokenizer: Any,
    cost_tracker: Any,
    tasks: list[asyncio.Task[None]],
) -> tuple[Any, dict[str, Any], list[WrappedTrajectoryGroup]]:
    """The streaming step, failing at once when a rollout worker raises (instead of waiting forever)."""
    step = asyncio.ensure_future(
        _cb().do_train_step_streaming_and_get_sampling_client(
            config,
            i_batch,
            queue,
            training_client,
            checkpoint_mgr,
            kl_reference_client,
            tokenizer,
            cost_tracker=cost_tracker,
        )
    )
    pending: set[asyncio.Future[Any]] = {step, *tasks}
    while not step.done():
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not step and t.exception() is not None:
                step.cancel()
                await asyncio.gather(step, return_exceptions=True)
                raise t.exception()
    result: tuple[Any, dict[str, Any], list[WrappedTrajectoryGroup]] | None = step.result()
    assert result is not None, "no shutdown sentinel in the sync streaming path"
    return result
