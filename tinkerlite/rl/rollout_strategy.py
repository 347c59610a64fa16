"""How a group's trajectories are collected when rollouts fail (the cookbook's ``rl.rollout_strategy``).

A :class:`RolloutStrategy` makes the group's envs and runs one rollout per env:

* :class:`FailFast` (default): the first failure cancels the others and propagates;
* :class:`RetryOnFailure`: a failed or timed-out rollout is rerun on a fresh env (``make_envs()`` again,
  first env) while a group-wide budget of ``max_retries`` lasts; once it is spent the next failure cancels
  the rest and propagates, so a group never trains on a biased partial set;
* :class:`MinViableGroup`: retries only while fewer than ``min_successful`` (default ``ceil(0.75 * G)``)
  rollouts have succeeded, then accepts the partial group; below the floor the group is dropped with
  :class:`~tinkerlite.exceptions.AllTrajectoriesFailedError`.

``catches_group_errors`` tells the caller whether a group-level failure (``make_envs``,
``compute_group_rewards``) should skip the group instead of stopping the run. Strategies are frozen
dataclasses of primitives, so they pickle for process-pool rollouts. tinkerlite's own loops also take the
equivalent ``error_policy`` (``fail_fast`` | ``drop``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..completers import TokenCompleter
from ..exceptions import AllTrajectoriesFailedError, ConfigurationError
from .types import Env, EnvGroupBuilder, RolloutError, Trajectory, TrajectoryGroup

__all__ = [
    "FailFast",
    "MinViableGroup",
    "RetryOnFailure",
    "RolloutResult",
    "RolloutStrategy",
    "do_group_rollout_with_strategy",
    "rollout_strategy_from_config",
]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class RolloutResult:
    """The successful trajectories, the envs that produced them (same order), and every error seen."""

    trajectories: list[Trajectory]
    envs: Sequence[Env]
    errors: list[RolloutError]


class RolloutStrategy(ABC):
    """Runs a group's rollouts; see the module docstring for the shipped strategies."""

    @property
    def catches_group_errors(self) -> bool:
        """True: group-level errors skip the group; False: they propagate."""
        return False

    @abstractmethod
    async def execute(self, env_group_builder: EnvGroupBuilder, policy: TokenCompleter) -> RolloutResult:
        """Make envs, run rollouts, return what survived (or raise)."""


async def _cancel_all(tasks: set[asyncio.Task[Trajectory]]) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _guarded(pending: set[asyncio.Task[Trajectory]], awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable``; if it fails or is cancelled, cancel the in-flight rollouts first."""
    try:
        return await awaitable
    except BaseException:
        await _cancel_all(pending)
        raise


@dataclass(frozen=True)
class FailFast(RolloutStrategy):
    """Any rollout error ends the group (and, by default, the run)."""

    async def execute(self, env_group_builder: EnvGroupBuilder, policy: TokenCompleter) -> RolloutResult:
        from .rollouts import do_single_rollout

        envs = await env_group_builder.make_envs()
        tasks = [asyncio.ensure_future(do_single_rollout(policy, env)) for env in envs]
        try:
            trajectories = list(await asyncio.gather(*tasks))
        except BaseException:
            await _cancel_all(set(tasks))
            raise
        return RolloutResult(trajectories=trajectories, envs=envs, errors=[])


async def _run_with_retries(
    builder: EnvGroupBuilder,
    policy: TokenCompleter,
    *,
    max_retries: int,
    timeout: float | None,
    floor_for: Callable[[int], int] | None,
) -> tuple[list[Trajectory], list[Env], list[RolloutError], int]:
    """Shared engine. ``floor_for=None``: retry every failure, raise once the budget is spent. Otherwise
    ``floor = floor_for(group size)``: retry only while fewer than ``floor`` succeeded; later failures are
    recorded and the group is kept. Returns (trajectories, their envs, errors, floor or group size)."""
    from .rollouts import do_single_rollout

    envs = list(await builder.make_envs())
    floor = floor_for(len(envs)) if floor_for is not None else None

    def launch(env: Env) -> asyncio.Task[Trajectory]:
        coro = do_single_rollout(policy, env)
        return asyncio.ensure_future(asyncio.wait_for(coro, timeout) if timeout is not None else coro)

    env_of = {launch(env): env for env in envs}
    order = {task: i for i, task in enumerate(env_of)}  # launch order, for a fixed order among simultaneous ends
    pending = set(env_of)
    trajectories: list[Trajectory] = []
    survivors: list[Env] = []
    errors: list[RolloutError] = []
    budget = max_retries
    while pending:
        done, pending = await _guarded(pending, asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED))
        for task in sorted(done, key=lambda t: order.get(t, len(order))):
            if task.cancelled():
                await _cancel_all(pending)
                raise asyncio.CancelledError
            exc = task.exception()
            if exc is None:
                trajectories.append(task.result())
                survivors.append(env_of[task])
                continue
            if not isinstance(exc, Exception):  # KeyboardInterrupt and friends are never retried
                await _cancel_all(pending)
                raise exc
            label = "timed out" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else "failed"
            errors.append(RolloutError(error_type=type(exc).__name__, error_message=str(exc)))
            wants_retry = floor is None or len(trajectories) < floor
            if wants_retry and budget > 0:
                budget -= 1
                logger.warning("Trajectory %s (%s): %s (retries_remaining=%d)", label, type(exc).__name__, exc, budget)
                fresh = await _guarded(pending, builder.make_envs())
                task2 = launch(fresh[0])
                env_of[task2] = fresh[0]
                order[task2] = len(order)
                pending.add(task2)
            elif floor is None:
                logger.error("Retry budget exhausted (%d retries), cancelling remaining tasks", max_retries)
                await _cancel_all(pending)
                raise exc
            else:
                logger.warning(
                    "Trajectory %s (%s): %s — not retried (%d/%d succeeded, floor=%d, retries_remaining=%d)",
                    label,
                    type(exc).__name__,
                    exc,
                    len(trajectories),
                    len(envs),
                    floor,
                    budget,
                )
    return trajectories, survivors, errors, len(envs) if floor is None else floor


@dataclass(frozen=True)
class RetryOnFailure(RolloutStrategy):
    """Rerun failed (or, with ``per_rollout_timeout > 0``, slow) rollouts on fresh envs, ``max_retries``
    per group in total; past the budget, a failure propagates."""

    max_retries: int = 3
    per_rollout_timeout: float = 0

    @property
    def catches_group_errors(self) -> bool:
        return True

    async def execute(self, env_group_builder: EnvGroupBuilder, policy: TokenCompleter) -> RolloutResult:
        timeout = self.per_rollout_timeout if self.per_rollout_timeout > 0 else None
        trajs, envs, errors, _ = await _run_with_retries(
            env_group_builder, policy, max_retries=self.max_retries, timeout=timeout, floor_for=None
        )
        return RolloutResult(trajectories=trajs, envs=envs, errors=errors)


@dataclass(frozen=True)
class MinViableGroup(RolloutStrategy):
    """Keep a partial group once ``min_successful`` rollouts (default 75% of the group) succeeded."""

    min_successful: int | None = None
    max_retries: int = 3
    per_rollout_timeout: float | None = None

    @property
    def catches_group_errors(self) -> bool:
        return True

    async def execute(self, env_group_builder: EnvGroupBuilder, policy: TokenCompleter) -> RolloutResult:
        ms = self.min_successful
        trajs, envs, errors, floor = await _run_with_retries(
            env_group_builder,
            policy,
            max_retries=self.max_retries,
            timeout=self.per_rollout_timeout,
            floor_for=lambda g: ms if ms is not None else math.ceil(0.75 * g),
        )
        if len(trajs) < floor:
            raise AllTrajectoriesFailedError(
                f"Only {len(trajs)} rollouts succeeded, below the minimum viable group size {floor} "
                f"({len(errors)} failures, max_retries={self.max_retries}); dropping the group"
            )
        return RolloutResult(trajectories=trajs, envs=envs, errors=errors)


def rollout_strategy_from_config(rollout_error_tolerance: bool | RolloutStrategy) -> RolloutStrategy:
    """``False`` -> :class:`FailFast`, ``True`` -> :class:`RetryOnFailure` (defaults), a strategy as is."""
    if isinstance(rollout_error_tolerance, RolloutStrategy):
        return rollout_error_tolerance
    if rollout_error_tolerance is False:
        return FailFast()
    if rollout_error_tolerance is True:
        return RetryOnFailure()
    raise ConfigurationError(f"Invalid rollout_error_tolerance value: {rollout_error_tolerance!r}")


async def do_group_rollout_with_strategy(
    builder: EnvGroupBuilder, policy: TokenCompleter, strategy: RolloutStrategy
) -> TrajectoryGroup:
    """One group collected by ``strategy``, then scored by ``builder.compute_group_rewards``.

    A group left with no trajectory raises :class:`~tinkerlite.exceptions.AllTrajectoriesFailedError`;
    ``builder.cleanup()`` always runs.
    """
    try:
        result = await strategy.execute(builder, policy)
        if not result.trajectories:
            raise AllTrajectoriesFailedError(f"all rollouts of the group failed ({len(result.errors)} errors)")
        scored = await builder.compute_group_rewards(result.trajectories, result.envs)
        if len(scored) != len(result.trajectories):
            raise ConfigurationError(
                f"{type(builder).__name__}.compute_group_rewards returned {len(scored)} entries for "
                f"{len(result.trajectories)} trajectories"
            )
        return TrajectoryGroup(
            list(result.trajectories),
            [float(r) for r, _ in scored],
            [dict(m) for _, m in scored],
            rollout_errors=list(result.errors),
        )
    finally:
        await builder.cleanup()
