"""The RL step loops of :mod:`.train`: synchronous (sample, train, new sampler every step) and
asynchronous off-policy (workers keep sampling on the newest sampler while the trainer trains).

Kept apart from the trainer state (``train._Trainer``) so each module stays one concept; the loops only
drive the trainer's step methods.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..types import Datum
from ..utils.ml_log import ProgressLine
from .metrics import compute_sampling_client_metrics
from .rollouts import _do_group_rollout, gather_group_rollouts
from .types import EnvGroupBuilder, TrajectoryGroup

if TYPE_CHECKING:  # annotation only: train imports this module at run time, never the reverse
    from .train import _Trainer

# The loops' warnings keep the logger name they had inside rl.train.
logger = logging.getLogger("tinkerlite.rl.train")

async def _sync_loop(tr: _Trainer, start: int, total: int, progress: ProgressLine | None) -> int:
    c = tr.config
    assert tr.dataset is not None
    steps = 0
    for step in range(start, total):
        metrics: dict[str, Any] = {}
        t0 = time.monotonic()
        if c.eval_every > 0 and step % c.eval_every == 0:
            metrics.update(await tr.evaluate(step))
        builders = list(tr.dataset.get_batch(step))
        results = await gather_group_rollouts(
            builders,
            tr.policy(tr.sampling_client, step),
            error_policy=c.error_policy,
            max_turns=c.max_turns,
            counter=tr.errors,
            termination=c.effective_termination(),
        )
        kept = [(b, g) for b, g in zip(builders, results, strict=True) if g is not None]
        metrics["time/sample"] = time.monotonic() - t0
        await tr.export_rollouts(step, [(b, g, step) for b, g in kept])
        t1 = time.monotonic()
        data, prep = await tr.prepare([b for b, _ in kept], [g for _, g in kept]) if kept else ([], {})
        metrics.update(prep)
        train_lp = await tr.train_step(data, metrics) if data else []
        metrics["time/train"] = time.monotonic() - t1
        await tr.finish_step(step, total, data, train_lp, metrics)
        steps += 1
        if progress is not None:
            _progress(progress, step, data, metrics)
    return steps


def _progress(progress: ProgressLine, step: int, data: list[Datum], metrics: dict[str, Any]) -> None:
    n_tokens = sum(d.model_input.length for d in data)
    n_loss = sum(sum(1 for m in d.loss_fn_inputs["mask"].dense_flat() if m > 0) for d in data) if data else 0
    loss = metrics.get("loss:sum", math.nan) / n_loss if n_loss else math.nan
    extra = f"reward {metrics.get('env/all/reward/total', math.nan):.3f}"
    if isinstance(metrics.get("cost/cumulative_usd"), float):
        extra += f"  ~${metrics['cost/cumulative_usd']:.4f}"
    if "test/env/all/reward/total" in metrics:
        extra += f"  test/reward {metrics['test/env/all/reward/total']:.3f}"
    progress.update(step, loss, n_tokens, extra)


@dataclass
class _Sampled:
    builder: EnvGroupBuilder
    group: TrajectoryGroup | None
    sampler_step: int
    seconds: float

    @property
    def sampling_client_step(self) -> int:
        """The cookbook's ``WrappedTrajectoryGroup`` view read by ``compute_sampling_client_metrics``."""
        return self.sampler_step

    @property
    def metrics(self) -> dict[str, float]:
        return {"time/trajectory_group_worker_loop/total": self.seconds}


async def _async_loop(tr: _Trainer, start: int, total: int, progress: ProgressLine | None) -> int:
    """Workers roll out groups on whatever sampler is newest; the trainer takes fresh-enough groups."""
    c = tr.config
    ac = c.async_config
    assert ac is not None and tr.dataset is not None
    dataset = tr.dataset
    todo: asyncio.Queue[EnvGroupBuilder] = asyncio.Queue()
    # Bounded: when the trainer is busy, workers wait instead of piling up groups that will be stale.
    done: asyncio.Queue[_Sampled] = asyncio.Queue(maxsize=ac.groups_per_batch)
    next_batch = [start]
    calls = [0]

    def refill() -> None:
        # Keep about two steps of work queued, drawn batch by batch from the dataset (wrapping around).
        while todo.qsize() < 2 * ac.groups_per_batch:
            for b in dataset.get_batch(next_batch[0] % len(dataset)):
                todo.put_nowait(b)
            next_batch[0] += 1

    async def worker(wid: int) -> None:
        while True:
            refill()
            builder = await todo.get()
            step, client = tr.sampler_step, tr.sampling_client  # read together: the group's policy version
            calls[0] += 1
            policy = tr.policy(client, step, stream=1 + calls[0] % 997)
            t0 = time.monotonic()
            try:
                group: TrajectoryGroup | None = await _do_group_rollout(
                    builder, policy, error_policy=c.error_policy, max_turns=c.max_turns,
                    termination=c.effective_termination(),
                )
            except Exception as e:
                if c.error_policy == "fail_fast":
                    raise
                logger.warning("group rollout failed (%s): %s", type(e).__name__, e)
                tr.errors.record_exception(e)
                group = None
            await done.put(_Sampled(builder, group, step, time.monotonic() - t0))

    workers = [asyncio.create_task(worker(i)) for i in range(ac.groups_per_batch)]
    steps = 0
    try:
        for step in range(start, total):
            metrics: dict[str, Any] = {}
            t0 = time.monotonic()
            if c.eval_every > 0 and step % c.eval_every == 0:
                metrics.update(await tr.evaluate(step))
            batch: list[_Sampled] = []
            stale = 0
            while len(batch) < ac.groups_per_batch:
                getter = asyncio.ensure_future(done.get())
                finished, _ = await asyncio.wait([getter, *workers], return_when=asyncio.FIRST_COMPLETED)
                if getter not in finished:
                    getter.cancel()
                    for w in workers:
                        if w.done() and w.exception() is not None:
                            raise w.exception()  # type: ignore[misc]
                    continue
                item = getter.result()
                if step - item.sampler_step > ac.max_steps_off_policy:
                    stale += 1
                    todo.put_nowait(item.builder)  # too old: sample it again on a newer policy
                    continue
                tr.errors.ingest(item.group)
                if item.group is not None:
                    batch.append(item)
            metrics["time/sample"] = time.monotonic() - t0
            metrics["async/stale_groups_requeued"] = stale
            metrics.update(compute_sampling_client_metrics(list(batch)))
            t1 = time.monotonic()
            assert all(b.group is not None for b in batch)
            await tr.export_rollouts(step, [(b.builder, b.group, b.sampler_step) for b in batch if b.group is not None])
            data, prep = await tr.prepare([b.builder for b in batch], [b.group for b in batch if b.group is not None])
            metrics.update(prep)
            train_lp = await tr.train_step(data, metrics) if data else []
            metrics["time/train"] = time.monotonic() - t1
            await tr.finish_step(step, total, data, train_lp, metrics)
            steps += 1
            if progress is not None:
                _progress(progress, step, data, metrics)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return steps
