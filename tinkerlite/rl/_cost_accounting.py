"""Token accounting of the RL loop (the cookbook keeps these in ``rl.train``, which re-exports them):
what a batch's rollouts were billed for, what training sent, and the dropped groups' cost."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..types import Datum
from ..utils.cost_estimation import CostTracker, TokenUsage
from .types import TrajectoryGroup

__all__ = [
    "DISCARDED_WORK_LOG_INTERVAL_SECONDS",
    "DiscardedWorkLog",
    "count_discarded_rollout",
    "drop_constant_reward_group",
    "rollout_usage",
    "training_usage",
]


def rollout_usage(trajectory_groups: Sequence[TrajectoryGroup]) -> TokenUsage:
    """The sampling the groups' rollouts were billed for: action tokens sampled, every turn's observation
    prefilled (split by the prefix-cache hits the sampler reported)."""
    transitions = [t for g in trajectory_groups for traj in g.trajectories_G for t in traj.transitions]
    prompt = sum(t.ob.length for t in transitions)
    cached = sum(int(getattr(t.ac, "prompt_cache_hit_tokens", 0) or 0) for t in transitions)
    return TokenUsage(
        sampled=sum(len(t.ac.tokens) for t in transitions), prefill_cached=cached, prefill_uncached=prompt - cached
    )


def training_usage(data_D: list[Datum]) -> TokenUsage:
    """The tokens in the datums sent to ``forward_backward``."""
    return TokenUsage(trained=sum(d.model_input.length for d in data_D))


def count_discarded_rollout(cost_tracker: CostTracker | None, trajectory_group: TrajectoryGroup) -> None:
    """Count a completed group dropped before training as discarded sampling (never part of a step)."""
    if cost_tracker is not None:
        cost_tracker.record_discarded_sampling(rollout_usage([trajectory_group]))


DISCARDED_WORK_LOG_INTERVAL_SECONDS = 60.0


class DiscardedWorkLog:
    """Keeps dropped groups' cost visible while no step logs: after a drop, at most once per interval, the
    tracker's cumulative totals go out through ``log_summary`` (outside the step history)."""

    def __init__(
        self,
        cost_tracker: CostTracker | None,
        ml_logger: Any,
        *,
        interval_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cost_tracker = cost_tracker
        self.ml_logger = ml_logger
        self.interval_seconds = DISCARDED_WORK_LOG_INTERVAL_SECONDS if interval_seconds is None else interval_seconds
        self.clock = clock
        self._last_logged = clock()

    def step_logged(self) -> None:
        """A step just logged its metrics: restart the interval."""
        self._last_logged = self.clock()

    def discarded(self, step: int) -> None:
        """A group was just dropped and counted; log the totals if it has been a while."""
        if self.cost_tracker is None:
            return
        now = self.clock()
        if now - self._last_logged < self.interval_seconds:
            return
        self._last_logged = now
        self.ml_logger.log_summary(self.cost_tracker.cumulative_metrics())


def drop_constant_reward_group(
    trajectory_group: TrajectoryGroup | None,
    config: Any,
    cost_tracker: CostTracker | None,
    discarded_log: DiscardedWorkLog | None = None,
    step: int = 0,
) -> TrajectoryGroup | None:
    """``config.remove_constant_reward_groups`` for one completed group: a constant-reward group's sampling
    is counted as discarded (and reported through ``discarded_log``) and None is returned."""
    if trajectory_group is None or not config.remove_constant_reward_groups:
        return trajectory_group
    rewards = trajectory_group.get_total_rewards()
    if not all(r == rewards[0] for r in rewards):
        return trajectory_group
    count_discarded_rollout(cost_tracker, trajectory_group)
    if discarded_log is not None:
        discarded_log.discarded(step)
    return None
