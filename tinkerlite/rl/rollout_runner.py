"""The configurable single-rollout loop (the cookbook's ``rl.rollout_runner``).

:func:`run_rollout` drives one episode of an env with a token policy. Unconfigured it is the plain loop;
:class:`~tinkerlite.rl.rollout_limits.RolloutLimits` and :class:`RolloutHooks` add, as in the cookbook:

- a per-call token budget: min(max_turn_tokens, max_trajectory_tokens - observation length,
  max_sampled_tokens - sampled so far), passed as the policy's ``max_tokens``; a cumulative remainder
  <= 1 stops before sampling (MAX_TOKENS wins over MAX_SAMPLED_TOKENS);
- per-turn "length" stops the env continued past, counted as ``num_truncations_max_turn_tokens``;
- runner ``max_turns`` (no grading: the env never saw the end) and ``max_tool_calls`` / a
  ``ParseErrorPolicy`` pushed into the env through its ``set_max_tool_calls`` / ``set_parse_error_policy``;
- ``rollout_timeout_seconds``: graceful (the partial trajectory, ROLLOUT_TIMEOUT); ``sampling_turn_timeout
  _seconds``: raises :class:`SamplingTurnTimeoutError` so retrying strategies can retry;
- hooks: inject messages before a turn, override or clear a stop reason, grade / artifacts callbacks.

The final transition carries exactly one ``stop/<reason>`` metric and ``Trajectory.stop_reason`` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

from ..completers import StopCondition, TokenCompleter, TokensWithLogprobs
from ..renderers.base import Message
from ..types import ModelInput
from ..utils import trace
from .rollout_limits import ParseErrorPolicy, RolloutLimits
from .rollout_presets import RolloutConfig
from .types import (
    STOP_METRIC_PREFIX,
    ActionExtra,
    Env,
    InitialObservationOverflow,
    Metrics,
    StopReason,
    Trajectory,
    Transition,
)

__all__ = [
    "TRUNCATION_METRIC_KEY",
    "RolloutHooks",
    "RolloutState",
    "SamplingTurnTimeoutError",
    "SupportsParseErrorPolicy",
    "SupportsToolCallLimit",
    "run_rollout",
    "stop_reason_from_metrics",
]

logger = logging.getLogger(__name__)

TRUNCATION_METRIC_KEY = "num_truncations_max_turn_tokens"
"""Final-transition metric: per-turn "length" truncations the rollout continued past."""


def _s(reason: object) -> str:
    return str(reason.value) if isinstance(reason, Enum) else str(reason)


class SamplingTurnTimeoutError(Exception):
    """One sampling call exceeded ``sampling_turn_timeout_seconds`` (raised: no usable partial turn)."""


class SupportsToolCallLimit(Protocol):
    """Envs that enforce ``max_tool_calls`` themselves (tools run inside the env)."""

    def set_max_tool_calls(self, max_tool_calls: int) -> None: ...


class SupportsParseErrorPolicy(Protocol):
    """Envs that apply a ``ParseErrorPolicy`` (parsing happens inside the env)."""

    def set_parse_error_policy(self, policy: ParseErrorPolicy) -> None: ...


@dataclass
class RolloutState:
    """Progress passed to hooks (``transitions`` is a live view: do not mutate)."""

    turn_index: int
    observation_tokens: int
    sampled_tokens: int
    num_length_truncations: int
    elapsed_seconds: float
    transitions: list[Transition]


class RolloutHooks(Protocol):
    """Optional callbacks; every method has a no-op default."""

    async def on_turn_begin(self, state: RolloutState) -> list[Message] | None:
        """Messages to inject before this turn's sampling (they count toward the token budget)."""
        return None

    async def on_stop_reason(self, reason: str, state: RolloutState) -> str | None:
        """Accept (return it), override (another string) or clear (None) a stop."""
        return reason

    async def on_grade(self, state: RolloutState) -> None:
        """After the env's terminal step (not for runner-imposed stops)."""
        return None

    async def on_artifacts(self, state: RolloutState) -> None:
        """Right before the trajectory is returned, on every graceful path."""
        return None


def stop_reason_from_metrics(metrics: Metrics) -> str | None:
    """The reason of the one-hot ``stop/<reason>`` key, if any."""
    return next((k.removeprefix(STOP_METRIC_PREFIX) for k in metrics if k.startswith(STOP_METRIC_PREFIX)), None)


async def run_rollout(
    policy: TokenCompleter,
    env: Env,
    *,
    limits: RolloutLimits | None = None,
    hooks: RolloutHooks | None = None,
    parse_errors: ParseErrorPolicy | None = None,
    config: RolloutConfig | None = None,
) -> Trajectory:
    """Run one episode. ``config`` supplies ``limits`` / ``parse_errors`` not given explicitly; with no
    limits at all, the env's advertised ``rollout_limits`` apply."""
    if config is not None:
        limits = limits if limits is not None else config.limits
        parse_errors = parse_errors if parse_errors is not None else config.parse_errors
    if limits is None:
        limits = getattr(env, "rollout_limits", None)
    return await _RolloutRun(policy=policy, env=env, limits=limits, hooks=hooks, parse_errors=parse_errors).run()


@dataclass
class _RolloutRun:
    """State and control flow of one rollout (single use, like the env)."""

    policy: TokenCompleter
    env: Env
    limits: RolloutLimits | None
    hooks: RolloutHooks | None
    parse_errors: ParseErrorPolicy | None = None
    transitions: list[Transition] = field(default_factory=list)
    turn_index: int = 0
    sampled_tokens: int = 0
    num_truncations: int = 0
    _start_time: float = field(default_factory=time.monotonic)
    ob: ModelInput = field(default_factory=ModelInput.empty)
    stop_condition: StopCondition = field(default_factory=list)

    async def run(self) -> Trajectory:
        self._push_tool_call_limit()
        self._push_parse_error_policy()
        timeout = self.limits.rollout_timeout_seconds if self.limits is not None else None
        if timeout is None:
            return await self._run_loop()
        try:
            return await asyncio.wait_for(self._run_loop(), timeout)
        except asyncio.TimeoutError:  # graceful: keep the prefix (not hook-clearable: the loop is gone)
            return await self._finalize_runner_stop(StopReason.ROLLOUT_TIMEOUT.value)

    async def _run_loop(self) -> Trajectory:
        async with trace.scope_span("env_initial_observation"):
            initial = await self.env.initial_observation()
        if isinstance(initial, InitialObservationOverflow):
            return await self._finalize_initial_overflow(initial)
        self.ob, self.stop_condition = initial
        while True:
            reason = self._pre_turn_stop_reason()
            if reason is not None:
                resolved = await self._resolve_stop(reason)
                if resolved is not None:
                    return await self._finalize_runner_stop(resolved)
            if self.hooks is not None:
                injected = await self.hooks.on_turn_begin(self._state())
                if injected:
                    self.ob, self.stop_condition = await self._inject_messages(injected)
            reason = self._budget_stop_reason()
            if reason is not None:
                resolved = await self._resolve_stop(reason)
                if resolved is not None:
                    return await self._finalize_runner_stop(resolved)
            ac = await self._sample(self._per_call_budget())
            async with trace.scope_span("env_step"):
                result = await self.env.step(ac.tokens, extra=ActionExtra(stop_reason=ac.stop_reason))
            transition = Transition(
                ob=self.ob,
                ac=ac,
                reward=result.reward,
                episode_done=result.episode_done,
                metrics=result.metrics,
                logs=result.logs,
            )
            self.transitions.append(transition)
            self.turn_index += 1
            self.sampled_tokens += len(ac.tokens)
            if ac.stop_reason == "length" and not result.episode_done:
                self.num_truncations += 1
            self.ob, self.stop_condition = result.next_observation, result.next_stop_condition
            if result.episode_done:
                env_reason = stop_reason_from_metrics(transition.metrics)
                if self.hooks is not None and env_reason is not None:
                    resolved = await self.hooks.on_stop_reason(env_reason, self._state())
                    if resolved is None:  # cleared: keep rolling from the env's next observation
                        transition.episode_done = False
                        self._strip_stop_metrics(transition)
                        continue
                    if _s(resolved) != env_reason:
                        self._strip_stop_metrics(transition)
                        transition.metrics[f"{STOP_METRIC_PREFIX}{_s(resolved)}"] = 1.0
                        env_reason = _s(resolved)
                return await self._finalize_env_stop(env_reason)

    def _elapsed(self) -> float:
        return time.monotonic() - self._start_time

    def _pre_turn_stop_reason(self) -> str | None:
        lim = self.limits
        if lim is None:
            return None
        if lim.rollout_timeout_seconds is not None and self._elapsed() >= lim.rollout_timeout_seconds:
            return StopReason.ROLLOUT_TIMEOUT.value
        if lim.max_turns is not None and self.turn_index >= lim.max_turns:
            return StopReason.MAX_TURNS.value
        return None

    def _budget_stop_reason(self) -> str | None:
        lim = self.limits
        if lim is None:
            return None
        if lim.max_trajectory_tokens is not None and lim.max_trajectory_tokens - self.ob.length <= 1:
            return StopReason.MAX_TOKENS.value
        if lim.max_sampled_tokens is not None and lim.max_sampled_tokens - self.sampled_tokens <= 1:
            return StopReason.MAX_SAMPLED_TOKENS.value
        return None

    def _per_call_budget(self) -> int | None:
        """min over the limit terms; exhausted cumulative terms (only after a cleared stop) are dropped."""
        lim = self.limits
        if lim is None:
            return None
        terms: list[int] = []
        if lim.max_turn_tokens is not None:
            terms.append(lim.max_turn_tokens)
        if lim.max_trajectory_tokens is not None and lim.max_trajectory_tokens - self.ob.length > 1:
            terms.append(lim.max_trajectory_tokens - self.ob.length)
        if lim.max_sampled_tokens is not None and lim.max_sampled_tokens - self.sampled_tokens > 1:
            terms.append(lim.max_sampled_tokens - self.sampled_tokens)
        return min(terms) if terms else None

    async def _sample(self, budget: int | None) -> TokensWithLogprobs:
        turn_timeout = self.limits.sampling_turn_timeout_seconds if self.limits is not None else None
        async with trace.scope_span("policy_sample"):
            if turn_timeout is None:
                return await self._call_policy(budget)
            try:
                return await asyncio.wait_for(self._call_policy(budget), turn_timeout)
            except asyncio.TimeoutError as e:
                raise SamplingTurnTimeoutError(
                    f"Sampling call exceeded sampling_turn_timeout_seconds={turn_timeout}"
                ) from e

    async def _call_policy(self, budget: int | None) -> TokensWithLogprobs:
        # The kwarg only when a budget applies: older completers may not take max_tokens.
        if budget is None:
            return await self.policy(self.ob, self.stop_condition)
        return await self.policy(self.ob, self.stop_condition, max_tokens=budget)

    def _state(self) -> RolloutState:
        return RolloutState(
            turn_index=self.turn_index,
            observation_tokens=self.ob.length,
            sampled_tokens=self.sampled_tokens,
            num_length_truncations=self.num_truncations,
            elapsed_seconds=self._elapsed(),
            transitions=self.transitions,
        )

    async def _resolve_stop(self, reason: str) -> str | None:
        if self.hooks is None:
            return reason
        resolved = await self.hooks.on_stop_reason(reason, self._state())
        return None if resolved is None else _s(resolved)

    async def _inject_messages(self, messages: list[Message]) -> tuple[ModelInput, StopCondition]:
        inject = getattr(self.env, "inject_messages", None)
        if inject is None:
            raise TypeError(
                "on_turn_begin returned messages to inject, but the environment "
                f"({type(self.env).__name__}) does not support message injection (no inject_messages method)"
            )
        out: tuple[ModelInput, StopCondition] = await inject(list(messages))
        return out

    def _push_tool_call_limit(self) -> None:
        if self.limits is None or self.limits.max_tool_calls is None:
            return
        setter = getattr(self.env, "set_max_tool_calls", None)
        if setter is None:
            logger.warning(
                "RolloutLimits.max_tool_calls=%d is configured, but the environment (%s) does not support a "
                "tool-call limit (no set_max_tool_calls method); the limit will not be enforced.",
                self.limits.max_tool_calls,
                type(self.env).__name__,
            )
            return
        setter(self.limits.max_tool_calls)

    def _push_parse_error_policy(self) -> None:
        if self.parse_errors is None:
            return
        setter = getattr(self.env, "set_parse_error_policy", None)
        if setter is None:
            logger.warning(
                "A ParseErrorPolicy is configured, but the environment (%s) does not support one (no "
                "set_parse_error_policy method); the default one-shot parse-failure semantics "
                "(failed_parse_reward / terminate_on_parse_error) will apply.",
                type(self.env).__name__,
            )
            return
        setter(self.parse_errors)

    @staticmethod
    def _strip_stop_metrics(transition: Transition) -> None:
        for key in [k for k in transition.metrics if k.startswith(STOP_METRIC_PREFIX)]:
            del transition.metrics[key]

    def _attach_truncation_metric(self) -> None:
        if self.num_truncations > 0 and self.transitions:
            self.transitions[-1].metrics[TRUNCATION_METRIC_KEY] = float(self.num_truncations)

    async def _run_end_hooks(self, *, graded: bool) -> None:
        if self.hooks is None:
            return
        state = self._state()
        if graded:
            await self.hooks.on_grade(state)
        await self.hooks.on_artifacts(state)

    @staticmethod
    def _empty_transition(reward: float, metrics: Metrics, logs: dict[str, str | int | float]) -> Transition:
        return Transition(
            ob=ModelInput.empty(),
            ac=TokensWithLogprobs(tokens=[], maybe_logprobs=[]),
            reward=reward,
            episode_done=True,
            metrics=metrics,
            logs=logs,
        )

    async def _finalize_initial_overflow(self, initial: InitialObservationOverflow) -> Trajectory:
        """The prompt alone is over budget: one empty terminal transition carrying the reward."""
        transition = self._empty_transition(initial.reward, dict(initial.metrics), dict(initial.logs))
        self.transitions.append(transition)
        trajectory = Trajectory(
            transitions=self.transitions,
            final_ob=ModelInput.empty(),
            stop_reason=stop_reason_from_metrics(transition.metrics),
        )
        await self._run_end_hooks(graded=False)
        return trajectory

    async def _finalize_runner_stop(self, reason: str) -> Trajectory:
        """A budget / max_turns / timeout stop: the last transition becomes terminal (no grading ran)."""
        if self.transitions:
            last = self.transitions[-1]
            metrics = {k: v for k, v in last.metrics.items() if not k.startswith(STOP_METRIC_PREFIX)}
            metrics[f"{STOP_METRIC_PREFIX}{reason}"] = 1.0
            self.transitions[-1] = replace(last, episode_done=True, metrics=metrics)
        else:
            self.transitions.append(self._empty_transition(0.0, {f"{STOP_METRIC_PREFIX}{reason}": 1.0}, {}))
        self._attach_truncation_metric()
        trajectory = Trajectory(transitions=self.transitions, final_ob=self.ob, stop_reason=reason)
        await self._run_end_hooks(graded=False)
        return trajectory

    async def _finalize_env_stop(self, reason: str | None) -> Trajectory:
        self._attach_truncation_metric()
        trajectory = Trajectory(transitions=self.transitions, final_ob=self.ob, stop_reason=reason)
        await self._run_end_hooks(graded=True)
        return trajectory
