"""The cookbook's asynchronous off-policy RL loop (``rl.train.do_async_training``), re-exported by :mod:`.train`.

Four kinds of task share queues: a dataloader feeds env group builders, one rollout worker per slot
samples on the newest weights, the training loop trains ``groups_per_batch`` completed groups per step
(oldest sampler first; with streaming minibatches in completion order) and frees their slots, and an
evaluation loop evaluates each new sampler. At most ``groups_per_batch * (max_steps_off_policy + 1)``
groups are started but untrained; no completed group is discarded for staleness. When the dataset runs
out, shutdown cascades dataloader -> workers -> training -> evaluation through ``_Shutdown`` sentinels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ..utils import trace
from ._cost_accounting import DiscardedWorkLog, drop_constant_reward_group
from ._train_loops import _export, _first_sampling_client, _log_step, _rollout_one, _should_run_evals
from ._train_reporting import _resolved
from ._train_steps import (
    _RUN_HOOKS,
    SamplingClientReuse,
    WrappedTrajectoryGroup,
    _cb,
    _loop_state,
    _Shutdown,
)
from .types import EnvGroupBuilder

__all__ = ["do_async_training"]

logger = logging.getLogger("tinkerlite.rl.train")


class _AsyncCounter:
    """How many rollout workers are alive (the last one out sends the training loop its shutdown)."""

    def __init__(self, start: int) -> None:
        self._value = start
        self._lock = asyncio.Lock()

    async def decrement_and_get(self) -> int:
        async with self._lock:
            self._value -= 1
            return self._value


@trace.scope
async def do_async_training(
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
    """Async off-policy training (see :class:`~tinkerlite.rl.train.AsyncConfig`)."""
    assert config.async_config is not None
    hooks = _RUN_HOOKS.get()
    started_at = time.monotonic()
    ml_logger.enable_event_steps()

    def snapshot_coordinates(step: int, cost_metrics: dict[str, Any]) -> dict[str, float]:
        coords = {
            "eval/snapshot/training_step": float(step),
            "eval/snapshot/elapsed_seconds": time.monotonic() - started_at,
        }
        if "cost/cumulative_usd" in cost_metrics:
            coords["eval/snapshot/cumulative_cost_usd"] = cost_metrics["cost/cumulative_usd"]
        return coords

    ac = config.async_config
    # Each builder travels with its ordinal in the dataset (batch index, position), which seeds its rollouts:
    # which worker picks it up, and when, depends on the server's answer order, its seeds must not.
    builders_queue: asyncio.Queue[tuple[int, EnvGroupBuilder] | _Shutdown] = asyncio.Queue(
        maxsize=ac.groups_per_batch
    )
    groups_queue: asyncio.Queue[WrappedTrajectoryGroup | _Shutdown | None] = asyncio.Queue()
    discarded_log = DiscardedWorkLog(cost_tracker, ml_logger)
    if hooks is not None:
        sampling_client = await _first_sampling_client(training_client, checkpoint_mgr, start_batch, config)
    else:
        paths = await _cb().checkpoint_utils.save_checkpoint_async(
            training_client=training_client,
            name=f"{start_batch:06d}",
            log_path=config.log_path,
            loop_state=_loop_state(start_batch, cost_tracker),
            kind="both",
            ttl_seconds=config.ttl_seconds,
            store=ml_logger.store,
        )
        sampling_client = await _resolved(
            training_client.create_sampling_client(
                paths["sampler_path"], record_stability_info=config.records_stability_info()
            )
        )
    sampling_client_step = start_batch
    coordinates = snapshot_coordinates(start_batch, cost_tracker.cumulative_metrics() if cost_tracker else {})
    updated = asyncio.Event()
    updated.set()
    eval_shutdown = asyncio.Event()
    evaluation_end_step: int | None = end_batch if end_batch > start_batch else None
    smc = config.stream_minibatch_config
    groups_per_step = smc.groups_per_batch if smc is not None else ac.groups_per_batch
    num_slots = groups_per_step * (ac.max_steps_off_policy + 1)
    slots = asyncio.Semaphore(num_slots)
    alive = _AsyncCounter(num_slots)
    workers_finished = asyncio.Event()

    async def dataloader_loop() -> None:
        for i_batch in range(start_batch, end_batch):
            batch = dataset.get_batch(i_batch)
            for j, builder in enumerate(batch):
                await builders_queue.put((i_batch * len(batch) + j, builder))
        logger.info("[dataloader_loop] No more data, shutting down trajectory group workers")
        for _ in range(num_slots):
            await builders_queue.put(_Shutdown())

    async def worker_loop() -> None:
        while True:
            item = await builders_queue.get()
            if isinstance(item, _Shutdown):
                break
            ordinal, builder = item
            await slots.acquire()
            client, step = sampling_client, sampling_client_step  # read together: the group's policy version
            t0 = time.monotonic()
            async with trace.scope_span("trajectory_group_worker"):
                group = await _rollout_one(hooks, config, client, step, builder, 1 + ordinal, strategy, False)
            group = drop_constant_reward_group(group, config, cost_tracker, discarded_log, step)
            if error_counter is not None and hooks is None:
                error_counter.ingest(group)
            if group is None:
                slots.release()  # filtered out: it will never be trained
                groups_queue.put_nowait(None)
            else:
                took = {"time/trajectory_group_worker_loop/total": time.monotonic() - t0}
                groups_queue.put_nowait(
                    WrappedTrajectoryGroup(
                        trajectory_group=group, env_group_builder=builder, sampling_client_step=step, metrics=took
                    )
                )
        if await alive.decrement_and_get() == 0:
            workers_finished.set()
            groups_queue.put_nowait(_Shutdown())

    async def training_loop() -> None:
        nonlocal sampling_client, sampling_client_step, coordinates, evaluation_end_step
        completed: list[WrappedTrajectoryGroup] = []

        async def collect_batch() -> list[WrappedTrajectoryGroup] | None:
            while len(completed) < ac.groups_per_batch or not groups_queue.empty():
                item = await groups_queue.get()
                if isinstance(item, _Shutdown):
                    groups_queue.put_nowait(item)  # for later calls
                    break
                if item is not None:
                    completed.append(item)
            if not completed:
                return None
            completed.sort(key=lambda g: g.sampling_client_step)
            batch = completed[: ac.groups_per_batch]
            del completed[: ac.groups_per_batch]
            return batch

        i_batch = start_batch
        step_metrics: dict[str, Any] = {}
        while i_batch < end_batch:
            done_step = i_batch + 1
            metrics: dict[str, Any] = {
                "training_client/step": i_batch,
                "optim/lr": config.learning_rate,
                "progress/done_frac": done_step / num_batches,
            }
            reused = False
            with trace.trace_iteration(step=i_batch) as window:
                if smc is not None:
                    result = await _cb().do_train_step_streaming_and_get_sampling_client(
                        config,
                        i_batch,
                        groups_queue,
                        training_client,
                        checkpoint_mgr,
                        kl_reference_client,
                        tokenizer,
                        lambda g: g is not None,
                        cost_tracker=cost_tracker,
                    )
                    if result is None:
                        break
                    new_client, step_metrics, trained = result
                    assert new_client is not None
                    sampling_client = new_client
                else:
                    batch = await collect_batch()
                    if batch is None:
                        break
                    metrics.update(_cb().compute_sampling_client_metrics(batch))
                    reuse = None
                    if not _should_run_evals(evaluators, config, done_step, end_step=evaluation_end_step):
                        reuse = SamplingClientReuse(sampling_client, workers_finished)
                    sampling_client, step_metrics = await _cb().do_train_step_and_get_sampling_client(
                        config,
                        i_batch,
                        training_client,
                        checkpoint_mgr,
                        kl_reference_client,
                        tokenizer,
                        [g.env_group_builder for g in batch],
                        [g.trajectory_group for g in batch],
                        cost_tracker=cost_tracker,
                        sampling_client_reuse=reuse,
                    )
                    reused = reuse is not None and reuse.reused
                    trained = batch
            _export(
                hooks,
                config,
                ml_logger,
                i_batch,
                [(g.env_group_builder, g.trajectory_group, g.sampling_client_step) for g in trained],
            )
            staleness = [i_batch - g.sampling_client_step for g in trained]
            metrics["async/staleness_max"] = max(staleness)
            metrics["async/staleness_min"] = min(staleness)
            metrics["async/staleness_mean"] = sum(staleness) / len(staleness)
            if not reused:
                sampling_client_step = done_step
                coordinates = snapshot_coordinates(done_step, step_metrics)
                updated.set()
            for _ in trained:  # free the slots only now, so new rollouts use the new weights
                slots.release()
            if checkpoint_mgr is not None:  # rolling save (a no-op unless rolling_save_every)
                await checkpoint_mgr.maybe_save_rolling_async(
                    step=done_step, loop_state=_loop_state(done_step, cost_tracker)
                )
            metrics.update(step_metrics)
            await _log_step(hooks, window, config, ml_logger, i_batch, metrics, error_counter, discarded_log)
            i_batch += 1
        if i_batch < end_batch:
            logger.warning(
                "Async training ran out of data after %d of %d steps. Each step trains %d groups that survive "
                "filtering and rollout errors; to train more steps, raise max_steps (and num_epochs).",
                i_batch - start_batch,
                end_batch - start_batch,
                groups_per_step,
            )
        evaluation_end_step = i_batch if i_batch > start_batch else None
        if sampling_client_step < i_batch and _should_run_evals(
            evaluators, config, i_batch, end_step=evaluation_end_step
        ):
            sampling_client = await _resolved(
                training_client.save_weights_and_get_sampling_client(
                    record_stability_info=config.records_stability_info()
                )
            )
            sampling_client_step = i_batch
            coordinates = snapshot_coordinates(i_batch, step_metrics)
        if hooks is not None:
            hooks.async_steps_done = i_batch
        eval_shutdown.set()
        updated.set()

    async def evaluation_loop() -> None:
        if not evaluators or config.eval_every <= 0:
            return
        last: int | None = None
        while True:
            await updated.wait()
            updated.clear()
            shutting_down = eval_shutdown.is_set()
            step, client, coords = sampling_client_step, sampling_client, coordinates
            if step != last and _should_run_evals(evaluators, config, step, end_step=evaluation_end_step):
                last = step
                metrics: dict[str, Any] = {}
                with trace.trace_iteration(step=step) as window:
                    if hooks is not None:
                        eval_metrics = dict(await hooks.evaluate(step, client, end_step=evaluation_end_step))
                    else:
                        eval_metrics = await _cb().run_evaluations_parallel(
                            evaluators, client, config, step, store=ml_logger.store
                        )
                    metrics.update(eval_metrics)
                metrics.update(coords)
                metrics["eval/completed_elapsed_seconds"] = time.monotonic() - started_at
                axes: dict[str, str] = {}
                for axis, coord in (
                    ("step", "eval/snapshot/training_step"),
                    ("cost", "eval/snapshot/cumulative_cost_usd"),
                    ("time", "eval/snapshot/elapsed_seconds"),
                ):
                    if coord in coords:
                        for name, value in eval_metrics.items():
                            metrics[f"eval/by_{axis}/{name}"] = value
                            axes[f"eval/by_{axis}/{name}"] = coord
                metrics.update({f"eval/timing/{k}": v for k, v in window.get_timing_metrics().items()})
                ml_logger.log_metrics_event(
                    metrics, step=step, step_metric="eval/snapshot/training_step", metric_axes=axes
                )
            if shutting_down:
                break

    producers = [
        asyncio.create_task(dataloader_loop(), name="dataloader_loop"),
        *[asyncio.create_task(worker_loop(), name=f"trajectory_group_worker_loop_{i}") for i in range(num_slots)],
    ]
    training = asyncio.create_task(training_loop(), name="training_loop")
    evaluation = asyncio.create_task(evaluation_loop(), name="evaluation_loop")
    pending: set[asyncio.Task[None]] = {*producers, training, evaluation}
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            if training in done:  # nothing the producers make can be trained any more
                for task in producers:
                    task.cancel()
                pending.difference_update(producers)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*producers, training, evaluation, return_exceptions=True)
