"""Rollouts: one episode per env, a group's episodes concurrently, a batch's groups concurrently.

Everything is ``asyncio``: each env's ``policy(...)`` call is a sampling request, and all of a batch's
requests are in flight together (the sampling client applies the server's back-pressure). What happens
when an env or the policy raises is a policy, chosen per run:

* ``fail_fast``: the first error cancels the group's other rollouts and propagates (the run stops);
* ``drop``: the failed trajectory is dropped and counted (``rollout_errors/<Type>``); a group with no
  surviving trajectory, or whose ``make_envs``/``compute_group_rewards`` failed, is skipped and counted
  (``rollout_errors/groups_skipped``). The run continues.

A turn limit (``max_turns``) ends a never-finishing env with ``stop/max_turns`` instead of hanging.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Awaitable, Sequence
from concurrent.futures import Executor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..completers import TokenCompleter, TokensWithLogprobs, fork_policy
from ..errors import TinkerliteError, ValidationError
from ..exceptions import AllTrajectoriesFailedError
from ..types import ModelInput
from ..utils import logtree
from ._rollout_logtree import log_trajectory_details
from .rollout_limits import TerminationRewardPolicy
from .rollout_strategy import RolloutStrategy
from .types import (
    STOP_METRIC_PREFIX,
    Env,
    EnvGroupBuilder,
    InitialObservationOverflow,
    Metrics,
    RolloutError,
    StepResult,
    StopReason,
    Trajectory,
    TrajectoryGroup,
    Transition,
)

__all__ = [
    "AllRolloutsFailedError",
    "ErrorPolicy",
    "RolloutErrorCounter",
    "do_group_rollout",
    "do_group_rollout_and_filter_constant_reward",
    "do_single_rollout",
    "gather_group_rollouts",
    "get_rollout_executor",
    "set_rollout_executor",
]

logger = logging.getLogger(__name__)
ErrorPolicy = Literal["fail_fast", "drop"]
ERROR_POLICIES: tuple[str, ...] = ("fail_fast", "drop")
T = TypeVar("T")


class AllRolloutsFailedError(TinkerliteError):
    """Every rollout of a group failed (under ``drop``), so there is nothing to train on."""

    def __init__(self, errors: list[RolloutError]) -> None:
        self.errors = errors
        first = errors[0] if errors else RolloutError("unknown", "")
        super().__init__(
            f"all {len(errors)} rollouts of the group failed; first: {first.error_type}: {first.error_message}"
        )


def _stop_metric(reason: str) -> dict[str, float]:
    return {f"{STOP_METRIC_PREFIX}{reason}": 1.0}


def _stop_reason_from_metrics(metrics: dict[str, float | int]) -> str | None:
    reasons = [k[len(STOP_METRIC_PREFIX) :] for k, v in metrics.items() if k.startswith(STOP_METRIC_PREFIX) and v]
    return reasons[0] if reasons else None


def _empty_transition(reward: float, metrics: dict[str, float | int], logs: dict[str, Any] | None = None) -> Transition:
    return Transition(
        ob=ModelInput.empty(),
        ac=TokensWithLogprobs(tokens=[], maybe_logprobs=[]),
        reward=reward,
        episode_done=True,
        metrics=metrics,
        logs=dict(logs or {}),
    )


def _check_action(ac: object) -> TokensWithLogprobs:
    if not isinstance(ac, TokensWithLogprobs):
        raise ValidationError(f"the policy returned {type(ac).__name__}, not TokensWithLogprobs", field="policy")
    if ac.maybe_logprobs is not None and len(ac.maybe_logprobs) != len(ac.tokens):
        raise ValidationError(
            f"the policy returned {len(ac.tokens)} tokens but {len(ac.maybe_logprobs)} logprobs", field="policy"
        )
    return ac


async def do_single_rollout(policy: TokenCompleter, env: Env, *, max_turns: int | None = None) -> Trajectory:
    """Run one episode. ``max_turns`` stops an env that never sets ``episode_done`` (``stop/max_turns``)."""
    if max_turns is not None and max_turns < 1:
        raise ValidationError(f"must be >= 1, got {max_turns}", field="max_turns")
    limits = getattr(env, "rollout_limits", None)
    if limits is not None:  # an env built from a RolloutConfig: its budgets hold in training too (cookbook)
        from .rollout_runner import run_rollout

        if max_turns is not None and (limits.max_turns is None or max_turns < limits.max_turns):
            from ..utils.config import replace

            limits = replace(limits, max_turns=max_turns)
        return await run_rollout(policy, env, limits=limits)
    initial = await env.initial_observation()
    if isinstance(initial, InitialObservationOverflow):
        # The prompt alone is over budget: no tokens to train on, but the reward still counts in the group.
        # The env's metrics name the stop (stop/max_tokens); one is added if they do not. Its logs (why the
        # prompt overflowed) are kept, as the cookbook's rollout runner keeps them.
        metrics = dict(initial.metrics)
        if _stop_reason_from_metrics(metrics) is None:
            metrics.update(_stop_metric(StopReason.MAX_TOKENS.value))
        reason = _stop_reason_from_metrics(metrics)
        transition = _empty_transition(initial.reward, metrics, initial.logs)
        return Trajectory([transition], ModelInput.empty(), reason)
    ob, stop = initial
    transitions: list[Transition] = []
    while True:
        if max_turns is not None and len(transitions) >= max_turns:
            last = transitions[-1]
            metrics = {k: v for k, v in last.metrics.items() if not k.startswith(STOP_METRIC_PREFIX)}
            metrics.update(_stop_metric(StopReason.MAX_TURNS.value))
            transitions[-1] = dataclasses.replace(last, episode_done=True, metrics=metrics)
            return Trajectory(transitions, ob, StopReason.MAX_TURNS.value)
        ac = _check_action(await policy(ob, stop))
        result = await env.step(ac.tokens, extra={"stop_reason": ac.stop_reason})
        if not isinstance(result, StepResult):
            raise ValidationError(
                f"env.step returned {type(result).__name__}, not StepResult", field=type(env).__name__
            )
        transitions.append(
            Transition(ob, ac, float(result.reward), result.episode_done, dict(result.metrics), dict(result.logs))
        )
        ob, stop = result.next_observation, result.next_stop_condition
        if result.episode_done:
            return Trajectory(transitions, ob, _stop_reason_from_metrics(transitions[-1].metrics))


def _error(e: BaseException) -> RolloutError:
    return RolloutError(type(e).__name__, str(e)[:500])


async def _gather_fail_fast(aws: Sequence[Awaitable[T]]) -> list[T]:
    """Like ``gather`` but the first exception cancels the rest before propagating."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _should_skip_group_grading(termination: TerminationRewardPolicy | None, trajectories: list[Trajectory]) -> bool:
    """Grading can be skipped only when every member stopped on rollout_timeout and would be clamped."""
    return (
        termination is not None
        and termination.skip_grading_on_timeout
        and termination.zero_reward_on_limit
        and StopReason.ROLLOUT_TIMEOUT.value in {str(getattr(r, "value", r)) for r in termination.limit_stop_reasons}
        and len(trajectories) > 0
        and all(t.stop_reason == StopReason.ROLLOUT_TIMEOUT.value for t in trajectories)
    )


def _apply_zero_reward_on_limit(
    termination: TerminationRewardPolicy,
    trajectories: list[Trajectory],
    rewards_G: list[float],
    metrics_G: list[Metrics],
) -> None:
    """Grade-then-clamp: a limit-stopped member's group reward is lowered so its total is at most 0.0."""
    if not termination.zero_reward_on_limit:
        return
    limit = {str(getattr(r, "value", r)) for r in termination.limit_stop_reasons}
    for i, traj in enumerate(trajectories):
        if traj.stop_reason is None or traj.stop_reason not in limit:
            continue
        step_sum = sum(t.reward for t in traj.transitions)
        if step_sum + rewards_G[i] > 0.0:
            rewards_G[i] = -step_sum  # total exactly 0.0
            metrics_G[i] = {**metrics_G[i], "zero_reward_on_limit": 1.0}


@logtree.scope_header_decorator("Group Rollout")
async def do_group_rollout(
    env_group_builder: EnvGroupBuilder,
    policy: TokenCompleter,
    strategy: RolloutStrategy | None = None,
    termination: TerminationRewardPolicy | None = None,
) -> TrajectoryGroup:
    """Collect the group's trajectories with ``strategy`` (default :class:`FailFast`), then score the group.

    ``termination``: the grading call is bounded by ``grader_timeout_seconds``, skipped (0.0) when every
    member timed out and would be clamped anyway, and limit-stopped members' totals are clamped to
    ``min(reward, 0)`` after grading (marked ``zero_reward_on_limit``). ``cleanup()`` always runs.
    """
    if strategy is None:
        return await _do_group_rollout_impl(env_group_builder, policy, termination=termination)
    try:
        result = await strategy.execute(env_group_builder, policy)
        if not result.trajectories:
            raise AllTrajectoriesFailedError(f"all rollouts of the group failed ({len(result.errors)} errors)")
        return await _score_group(
            env_group_builder, list(result.trajectories), list(result.envs), list(result.errors), termination
        )
    finally:
        await _cleanup(env_group_builder)


async def _do_group_rollout_impl(
    builder: EnvGroupBuilder,
    policy: TokenCompleter,
    *,
    error_policy: ErrorPolicy = "fail_fast",
    max_turns: int | None = None,
    termination: TerminationRewardPolicy | None = None,
) -> TrajectoryGroup:
    """tinkerlite's loops' group rollout: :func:`do_group_rollout` with ``error_policy`` and ``max_turns``
    (:func:`_do_group_rollout` is this inside its ``Group Rollout`` logtree section).

    Under ``drop`` the failed trajectories are left out and listed in ``rollout_errors``; raises
    :class:`AllRolloutsFailedError` if none survives. ``builder.cleanup()`` always runs.
    """
    if error_policy not in ERROR_POLICIES:
        raise ValidationError(f"must be one of {', '.join(ERROR_POLICIES)}; got {error_policy!r}", field="error_policy")
    try:
        envs = list(await builder.make_envs())
        coros = [do_single_rollout(fork_policy(policy, i), env, max_turns=max_turns) for i, env in enumerate(envs)]
        errors: list[RolloutError] = []
        if error_policy == "fail_fast":
            trajs = await _gather_fail_fast(coros)
            kept_envs = envs
        else:
            results = await asyncio.gather(*coros, return_exceptions=True)
            trajs, kept_envs = [], []
            for env, r in zip(envs, results, strict=True):
                if isinstance(r, BaseException):
                    if isinstance(r, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                        raise r
                    logger.warning("rollout failed (%s): %s", type(r).__name__, r)
                    errors.append(_error(r))
                else:
                    trajs.append(r)
                    kept_envs.append(env)
            if not trajs:
                raise AllRolloutsFailedError(errors)
        return await _score_group(builder, trajs, kept_envs, errors, termination)
    finally:
        await _cleanup(builder)


async def _score_group(
    builder: EnvGroupBuilder,
    trajs: list[Trajectory],
    kept_envs: list[Env],
    errors: list[RolloutError],
    termination: TerminationRewardPolicy | None,
) -> TrajectoryGroup:
    if _should_skip_group_grading(termination, trajs):
        rewards_and_metrics: Sequence[tuple[float, Metrics]] = [(0.0, {}) for _ in trajs]
    else:
        grader_timeout = termination.grader_timeout_seconds if termination is not None else None
        grading = builder.compute_group_rewards(trajs, kept_envs)
        rewards_and_metrics = await asyncio.wait_for(grading, grader_timeout)
    if len(rewards_and_metrics) != len(trajs):
        raise ValidationError(
            f"compute_group_rewards returned {len(rewards_and_metrics)} entries for {len(trajs)} trajectories",
            field=type(builder).__name__,
        )
    rewards = [float(r) for r, _ in rewards_and_metrics]
    metrics = [dict(m) for _, m in rewards_and_metrics]
    if termination is not None:
        _apply_zero_reward_on_limit(termination, trajs, rewards, metrics)
    log_trajectory_details(trajs, rewards)
    return TrajectoryGroup(trajs, rewards, metrics, rollout_errors=errors)


_do_group_rollout = logtree.scope_header_decorator("Group Rollout")(_do_group_rollout_impl)


async def _cleanup(builder: EnvGroupBuilder) -> None:
    """``builder.cleanup()`` runs to the end even when the rollout is cancelled, however many times;
    the cancellation is re-raised once it is done."""
    cleanup = asyncio.ensure_future(builder.cleanup())
    cancelled = False
    while not cleanup.done():
        try:
            await asyncio.shield(cleanup)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    cleanup.result()


@dataclass
class RolloutErrorCounter:
    """Counts failed trajectories by exception type and skipped groups (``rollout_errors/...``)."""

    _counts: Counter[str] = field(default_factory=Counter)
    _groups_skipped: int = 0

    def ingest(self, result: TrajectoryGroup | None) -> None:
        if result is None:
            self._groups_skipped += 1
            return
        for err in result.rollout_errors:
            self._counts[err.error_type] += 1

    def record_exception(self, e: BaseException) -> None:
        """Count a group-level failure by type (each trajectory's type when every rollout failed)."""
        if isinstance(e, AllRolloutsFailedError):
            for err in e.errors:
                self._counts[err.error_type] += 1
        else:
            self._counts[type(e).__name__] += 1

    def get_metrics(self, prefix: str = "rollout_errors") -> dict[str, float]:
        if not self._counts and not self._groups_skipped:
            return {}
        out = {f"{prefix}/{k}": float(v) for k, v in self._counts.items()}
        out[f"{prefix}/total"] = float(sum(self._counts.values()))
        out[f"{prefix}/groups_skipped"] = float(self._groups_skipped)
        return out


async def gather_group_rollouts(
    builders: Sequence[EnvGroupBuilder],
    policy: TokenCompleter,
    *,
    error_policy: ErrorPolicy = "fail_fast",
    max_turns: int | None = None,
    counter: RolloutErrorCounter | None = None,
    termination: TerminationRewardPolicy | None = None,
    log_groups: int | None = None,
) -> list[TrajectoryGroup | None]:
    """All groups concurrently; under ``drop`` a failed group is ``None`` (and counted), else errors propagate.

    ``log_groups``: only the first that many groups write into the open logtree transcript (None: all).
    """

    async def one(index: int, b: EnvGroupBuilder) -> TrajectoryGroup | None:
        try:
            with logtree.optional_enable_logging(log_groups is None or index < log_groups):
                return await _do_group_rollout(
                    b,
                    fork_policy(policy, index),
                    error_policy=error_policy,
                    max_turns=max_turns,
                    termination=termination,
                )
        except Exception as e:
            if error_policy == "fail_fast":
                raise
            logger.warning("group rollout failed (%s): %s", type(e).__name__, e)
            if counter is not None:
                counter.record_exception(e)
            return None

    results = await _gather_fail_fast([one(i, b) for i, b in enumerate(builders)])
    if counter is not None:
        for r in results:
            counter.ingest(r)
    return results


# ---- rollout executor: group rollouts in threads, processes or a cluster (the cookbook's) -------------

_rollout_executor: ContextVar[Executor | None] = ContextVar("rollout_executor", default=None)


def set_rollout_executor(executor: Executor | None) -> None:
    """Run :func:`do_group_rollout_and_filter_constant_reward` through ``executor`` (None: in-process).

    A process pool must not use the ``fork`` start method (the client's background threads do not
    survive ``fork()``): it is refused here rather than hanging later.
    """
    _check_executor_start_method(executor)
    _rollout_executor.set(executor)


def _check_executor_start_method(executor: Executor | None) -> None:
    get_start_method = getattr(getattr(executor, "_mp_context", None), "get_start_method", None)
    if get_start_method is not None and get_start_method() == "fork":
        raise ValueError(
            "This ProcessPoolExecutor uses the 'fork' start method (the default on Linux). Worker processes "
            "created via fork() hang when using the Tinker client, because its background threads do not "
            "survive fork(). Create the pool with ProcessPoolExecutor(..., "
            "mp_context=multiprocessing.get_context(\"spawn\")) (or 'forkserver') instead."
        )


def get_rollout_executor() -> Executor | None:
    """The executor set by :func:`set_rollout_executor`, or None (rollouts run as asyncio tasks)."""
    return _rollout_executor.get()


@dataclass(frozen=True)
class _RolloutTask:
    """Everything one executor-dispatched group rollout needs (picklable for process pools)."""

    sampling_client: Any
    env_group_builder: EnvGroupBuilder
    max_tokens: int
    temperature: float
    remove_constant_reward_groups: bool
    enable_logging: bool
    strategy: RolloutStrategy | None = None
    termination: TerminationRewardPolicy | None = None


def _run_rollout_sync(task: _RolloutTask) -> TrajectoryGroup | None:
    """Executor entry point (module level, so it pickles): the rollout in a fresh event loop."""
    return asyncio.run(_filtered_group_rollout(task))


async def do_group_rollout_and_filter_constant_reward(
    sampling_client: Any,
    env_group_builder: EnvGroupBuilder,
    max_tokens: int,
    temperature: float,
    do_remove_constant_reward_groups: bool,
    enable_logging: bool = True,
    strategy: RolloutStrategy | None = None,
    termination: TerminationRewardPolicy | None = None,
) -> TrajectoryGroup | None:
    """One group rollout on ``sampling_client`` (through the rollout executor when one is set).

    None when every trajectory failed, when a group error is caught by ``strategy``
    (``catches_group_errors``), or, with ``do_remove_constant_reward_groups``, when all total rewards are
    equal (no gradient). ``enable_logging`` False keeps the group out of the logtree transcript.
    """
    task = _RolloutTask(
        sampling_client,
        env_group_builder,
        max_tokens,
        temperature,
        do_remove_constant_reward_groups,
        enable_logging,
        strategy,
        termination,
    )
    executor = get_rollout_executor()
    if executor is not None:
        return await asyncio.get_running_loop().run_in_executor(executor, _run_rollout_sync, task)
    return await _filtered_group_rollout(task)


async def _do_group_rollout_and_filter_constant_reward_impl(
    sampling_client: Any,
    env_group_builder: EnvGroupBuilder,
    max_tokens: int,
    temperature: float,
    do_remove_constant_reward_groups: bool,
    enable_logging: bool = True,
    strategy: RolloutStrategy | None = None,
    termination: TerminationRewardPolicy | None = None,
) -> TrajectoryGroup | None:
    """The in-process body of :func:`do_group_rollout_and_filter_constant_reward` (the cookbook's name)."""
    return await _filtered_group_rollout(
        _RolloutTask(
            sampling_client,
            env_group_builder,
            max_tokens,
            temperature,
            do_remove_constant_reward_groups,
            enable_logging,
            strategy,
            termination,
        )
    )


async def _filtered_group_rollout(task: _RolloutTask) -> TrajectoryGroup | None:
    from ..completers import TinkerTokenCompleter
    from .rollout_strategy import FailFast

    strategy = task.strategy if task.strategy is not None else FailFast()
    policy = TinkerTokenCompleter(task.sampling_client, max_tokens=task.max_tokens, temperature=task.temperature)
    try:
        with logtree.optional_enable_logging(task.enable_logging):
            group = await do_group_rollout(
                task.env_group_builder, policy, strategy=strategy, termination=task.termination
            )
    except (AllTrajectoriesFailedError, AllRolloutsFailedError) as e:
        logger.warning("%s", e)
        return None
    except Exception as e:
        if not strategy.catches_group_errors:
            raise
        logger.warning("Rollout error (%s), skipping group: %s", type(e).__name__, e)
        return None
    totals = group.get_total_rewards()
    if task.remove_constant_reward_groups and all(x == totals[0] for x in totals):
        return None
    return group
