"""What an RL step shows and evaluates (the cookbook's ``rl.train`` helpers), re-exported by :mod:`.train`:
``gather_with_progress`` (a progress bar over concurrent rollouts), ``print_group`` (a trajectory group
logged with its tokens coloured by advantage), and ``run_single_evaluation`` / ``run_evaluations_parallel``
(the evaluators of a step, each in its logtree transcript).
"""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import re
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..display import colorize_example
from ..utils import trace
from .data_processing import assemble_training_data, compute_advantages
from .metric_util import RLTestSetEvaluator
from .types import TrajectoryGroup

if TYPE_CHECKING:
    from .train import Config

__all__ = ["gather_with_progress", "print_group", "run_evaluations_parallel", "run_single_evaluation"]

logger = logging.getLogger("tinkerlite.rl.train")
T = TypeVar("T")


async def _resolved(x: Any) -> Any:
    """Client calls may hand back a future of the result (tinkerlite, SDK futures) or the result itself."""
    return await x if inspect.isawaitable(x) else x


async def gather_with_progress(coroutines: Iterable[Coroutine[Any, Any, T]], desc: str) -> list[T]:
    """``asyncio.gather`` in input order, with a progress bar (tqdm when installed, else a stderr line)."""
    coroutine_list = list(coroutines)
    bar = _progress_bar(len(coroutine_list), desc)

    async def track(coro: Coroutine[Any, Any, T]) -> T:
        result = await coro
        bar.update(1)
        return result

    try:
        return list(await asyncio.gather(*[track(c) for c in coroutine_list]))
    finally:
        bar.close()


class _LineBar:
    """The fallback progress bar: ``desc: n/total`` rewritten in place on an interactive stderr."""

    def __init__(self, total: int, desc: str) -> None:
        import sys

        self.total, self.desc, self.n = total, desc, 0
        self.stream = sys.stderr if sys.stderr.isatty() else None

    def update(self, k: int) -> None:
        self.n += k
        if self.stream is not None:
            self.stream.write(f"\r{self.desc}: {self.n}/{self.total}")
            self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.total:
            self.stream.write("\n")
            self.stream.flush()


def _progress_bar(total: int, desc: str) -> Any:
    import importlib

    try:
        tqdm = importlib.import_module("tqdm").tqdm  # optional: a plain line without it
    except ImportError:
        return _LineBar(total, desc)
    return tqdm(total=total, desc=desc)


def _select_representative_inds(scores: list[float], num_inds: int) -> list[int]:
    """``num_inds`` indices spread evenly over ``scores`` sorted ascending (stable, as numpy's argsort)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    if num_inds == 1:
        return [order[0]]
    return [order[int(k * (len(order) - 1) / (num_inds - 1))] for k in range(num_inds)]


def print_group(traj_group: TrajectoryGroup, tokenizer: Any) -> None:
    """Log (INFO) up to 4 trajectories spanning the group's rewards: each datum coloured by advantage,
    with the trajectory's reward, its metrics and its per-step metrics."""
    if not logger.isEnabledFor(logging.INFO):
        return  # nothing would be shown: skip the decoding
    max_trajs = 4
    if len(traj_group.trajectories_G) > max_trajs:
        inds = _select_representative_inds(traj_group.get_total_rewards(), max_trajs)
        traj_group = TrajectoryGroup(
            trajectories_G=[traj_group.trajectories_G[i] for i in inds],
            final_rewards_G=[traj_group.final_rewards_G[i] for i in inds],
            metrics_G=[traj_group.metrics_G[i] for i in inds],
        )
    rewards = traj_group.get_total_rewards()
    data_D, metadata_D = assemble_training_data([traj_group], compute_advantages([traj_group]))
    buf = io.StringIO()

    def bprint(s: str) -> None:
        print(s, file=buf)

    bprint("\n====== Trajectory Group ======")
    last = None
    for datum, meta in zip(data_D, metadata_D, strict=True):
        idx = meta["traj_idx"]
        if meta != last:
            bprint(f"****** trajectory idx={idx}, reward={rewards[idx]:.3g} ******")
            if traj_group.metrics_G[idx]:
                bprint("Trajectory metrics:")
                for key, value in traj_group.metrics_G[idx].items():
                    bprint(f"  {key}: {value}")
            step_metrics = [t.metrics for t in traj_group.trajectories_G[idx].transitions if t.metrics]
            if step_metrics:
                bprint("Per-step metrics:")
                for i, m in enumerate(step_metrics):
                    bprint(f"  Step {i}:")
                    for key, value in m.items():
                        bprint(f"    {key}: {value}")
        bprint("---- datum ----")
        bprint(colorize_example(datum, tokenizer, key="advantages"))
        last = meta
    bprint("====== End Trajectory Group ======")
    logger.info(buf.getvalue().rstrip())


def _cb() -> Any:
    """``tinkerlite.rl.train``, where rebinding a name overrides it (see ``_train_steps._cb``)."""
    from . import train

    return train


def _sanitize_filename_component(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "unnamed"


def _get_evaluator_name(evaluator: Any) -> str:
    name = getattr(evaluator, "name", None)
    return name if isinstance(evaluator, RLTestSetEvaluator) and name is not None else ""


@trace.scope
async def run_single_evaluation(
    evaluator: Any,
    config: Config,
    i_batch: int,
    sampling_client: Any,
    evaluator_label: str,
    store: Any | None = None,
) -> dict[str, Any]:
    """Run one evaluator on ``sampling_client`` inside its ``eval_<label>`` logtree scope; an
    :class:`RLTestSetEvaluator` also writes its rollout summaries through ``store``."""
    from ..utils.misc_utils import iteration_dir
    from ._logtree_scope import logtree_scope
    from .rollout_logging import RolloutSummaryExportConfig

    base_name = f"eval_{evaluator_label}"
    iter_dir = iteration_dir(config.log_path, i_batch)
    with logtree_scope(
        iter_dir,
        config.num_groups_to_log,
        base_name,
        f"Running evaluation {_get_evaluator_name(evaluator)} {i_batch}",
        iteration=i_batch,
        store=store,
    ):
        if isinstance(evaluator, RLTestSetEvaluator):
            export = (
                RolloutSummaryExportConfig(
                    split=f"eval/{evaluator_label}",
                    iteration=i_batch,
                    base_name=base_name,
                    sampling_client_step=i_batch,
                )
                if config.rollout_json_export and iter_dir is not None
                else None
            )
            out: dict[str, Any] = await evaluator(sampling_client, rollout_summary_export=export, store=store)
        else:
            out = await _resolved(evaluator(sampling_client))
        return out


@trace.scope
async def run_evaluations_parallel(
    evaluators: list[Any], sampling_client: Any, config: Config, i_batch: int, store: Any | None = None
) -> dict[str, Any]:
    """Every evaluator as its own task; their metrics merged in evaluator order."""
    tasks = []
    for i, evaluator in enumerate(evaluators):
        label = _sanitize_filename_component(_get_evaluator_name(evaluator) or str(i))
        tasks.append(
            asyncio.create_task(
                _cb().run_single_evaluation(evaluator, config, i_batch, sampling_client, label, store=store),
                name=f"eval_{label}_iteration_{i_batch:06d}",
            )
        )
    metrics: dict[str, Any] = {}
    for result in await asyncio.gather(*tasks):
        metrics.update(result)
    return metrics
