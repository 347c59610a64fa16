"""Message-level environments (the cookbook's ``rl.message_env``).

A :class:`MessageEnv` sees and answers renderer messages; :class:`EnvFromMessageEnv` adapts one to the
token-level :class:`~tinkerlite.rl.types.Env` the RL loop drives: it parses each sampled action with the
renderer, hands the message to the inner env and renders the returned conversation as the next
observation, applying the length / parse-error / context-window rules the cookbook's adapter applies.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..completers import StopCondition
from ..renderers import Renderer
from ..renderers.base import Message
from ..renderers.parsing import ParseTermination, classify_parse_failure
from ..types import ModelInput
from . import types
from .rollout_limits import ParseErrorPolicy, RolloutLimits

__all__ = ["EnvFromMessageEnv", "MessageEnv", "MessageStepResult"]

logger = logging.getLogger(__name__)


def _stop(reason: types.StopReason) -> str:
    return f"{types.STOP_METRIC_PREFIX}{reason.value}"


@dataclass
class MessageStepResult:
    """Result of a message-level step."""

    reward: float
    episode_done: bool
    next_messages: list[Message]
    metrics: dict[str, float] = field(default_factory=dict)
    logs: types.Logs = field(default_factory=dict)
    next_stop_condition: StopCondition | None = None


class MessageEnv(ABC):
    """An environment that speaks in renderer messages."""

    @abstractmethod
    async def initial_observation(self) -> list[Message]:
        """The initial conversation."""

    @abstractmethod
    async def step(self, message: Message) -> MessageStepResult:
        """Answer one assistant message."""

    async def observe_truncated_response(self, message: Message) -> list[Message] | None:
        """Record a response cut by the per-turn ``max_tokens`` (LENGTH-continue); None: unsupported."""
        return None

    async def add_messages(self, messages: list[Message]) -> list[Message] | None:
        """Append injected messages (rollout hooks); None: unsupported."""
        return None


class EnvFromMessageEnv(types.Env):
    """Wraps a :class:`MessageEnv` as a token-level env for the RL loop."""

    def __init__(
        self,
        renderer: Renderer,
        message_env: MessageEnv,
        failed_parse_reward: float = -1.0,
        terminate_on_parse_error: bool = True,
        max_trajectory_tokens: int | None = None,
        max_generation_tokens: int | None = None,
        context_overflow_reward: float = -0.1,
        terminate_on_length: bool = True,
        parse_error_policy: ParseErrorPolicy | None = None,
        rollout_limits: RolloutLimits | None = None,
    ):
        self.renderer = renderer
        self.message_env = message_env
        self.failed_parse_reward = failed_parse_reward
        self.terminate_on_parse_error = terminate_on_parse_error
        self.max_trajectory_tokens = max_trajectory_tokens
        self.max_generation_tokens = max_generation_tokens
        self.context_overflow_reward = context_overflow_reward
        self.terminate_on_length = terminate_on_length
        self.parse_error_policy = parse_error_policy
        self.rollout_limits = rollout_limits
        """Budgets a rollout runner enforces when it is given none of its own."""
        self._base_stop_condition: Any = renderer.get_stop_sequences()
        self.example_id: str | None = getattr(message_env, "example_id", None)

    async def _render_in_thread(self, messages: list[Message], **kwargs: Any) -> ModelInput:
        # Tokenising is CPU-bound: a thread keeps the event loop serving the other rollouts.
        return await asyncio.to_thread(self.renderer.build_generation_prompt, messages, **kwargs)

    def _exceeds_context_limit(self, observation_length: int) -> bool:
        if self.max_trajectory_tokens is None:
            return False
        return observation_length + (self.max_generation_tokens or 0) > self.max_trajectory_tokens

    def _done(self, reward: float, metrics: dict[str, float], logs: types.Logs | None = None) -> types.StepResult:
        return types.StepResult(
            reward=reward,
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=self._base_stop_condition,
            metrics=metrics,
            logs=logs or {},
        )

    async def initial_observation(self) -> tuple[ModelInput, StopCondition] | types.InitialObservationOverflow:
        model_input = await self._render_in_thread(await self.message_env.initial_observation())
        if self._exceeds_context_limit(model_input.length):
            reserve = self.max_generation_tokens or 0
            return types.InitialObservationOverflow(
                reward=self.context_overflow_reward,
                metrics={"max_tokens_reached": 1.0, _stop(types.StopReason.MAX_TOKENS): 1.0},
                logs={
                    "initial_observation_overflow": (
                        f"Initial observation ({model_input.length} tokens) + max_generation_tokens ({reserve}) = "
                        f"{model_input.length + reserve} exceeds max_trajectory_tokens "
                        f"({self.max_trajectory_tokens}). This task's prompt is too long for the model's "
                        "context window."
                    )
                },
            )
        return model_input, self._base_stop_condition

    async def step(self, action: types.Action, *, extra: types.ActionExtra | None = None) -> types.StepResult:
        """Parse the action, delegate to the message env, render its reply."""
        if (extra or {}).get("stop_reason", "stop") == "length":
            if not self.terminate_on_length:
                continued = await self._continue_after_truncation(action)
                if continued is not None:
                    return continued
            return self._done(
                self.context_overflow_reward, {"max_tokens_reached": 1.0, _stop(types.StopReason.MAX_TOKENS): 1.0}
            )
        message, termination = self.renderer.parse_response(list(action))
        if not termination.is_clean:
            if self.parse_error_policy is not None:
                return self._structural_parse_error_step(message, termination)
            metrics = {"parse_error": 1.0}
            if self.terminate_on_parse_error:
                metrics[_stop(types.StopReason.PARSE_ERROR)] = 1.0
            return types.StepResult(
                reward=self.failed_parse_reward,
                episode_done=self.terminate_on_parse_error,
                next_observation=ModelInput.empty(),
                next_stop_condition=self._base_stop_condition,
                metrics=metrics,
            )
        msg_step = await self.message_env.step(message)
        next_observation = await self._render_in_thread(msg_step.next_messages)
        if not msg_step.episode_done and self._exceeds_context_limit(next_observation.length):
            metrics = {**msg_step.metrics, "context_overflow": 1.0, _stop(types.StopReason.CONTEXT_OVERFLOW): 1.0}
            return self._done(self.context_overflow_reward, metrics, msg_step.logs)
        return types.StepResult(
            reward=msg_step.reward,
            episode_done=msg_step.episode_done,
            next_observation=next_observation,
            next_stop_condition=msg_step.next_stop_condition or self._base_stop_condition,
            metrics=msg_step.metrics,
            logs=msg_step.logs,
        )

    def _structural_parse_error_step(self, message: Message, termination: ParseTermination) -> types.StepResult:
        """A broken-framing response under a policy: stop with its ``terminal_reward``, never retried."""
        policy = self.parse_error_policy
        assert policy is not None
        classified = classify_parse_failure(message, termination)
        assert classified is not None
        kind, detail = classified
        metrics = {"parse_error": 1.0, _stop(types.StopReason.PARSE_ERROR): 1.0}
        if policy.mask_error_turns:
            metrics[types.PARSE_ERROR_MASKED_METRIC_KEY] = 1.0
        return self._done(
            policy.terminal_reward, metrics, {"parse_failure_kind": str(kind.value), "parse_failure_detail": detail}
        )

    def set_parse_error_policy(self, policy: ParseErrorPolicy) -> None:
        """Install a rollout-level policy here and on the inner env when it takes one."""
        self.parse_error_policy = policy
        setter = getattr(self.message_env, "set_parse_error_policy", None)
        if setter is not None:
            setter(policy)
        elif policy.max_consecutive > 0:
            logger.warning(
                "ParseErrorPolicy.max_consecutive=%d is configured, but %s does not support a parse-error policy; "
                "content parse failures will not be retried (structural handling still applies).",
                policy.max_consecutive,
                type(self.message_env).__name__,
            )

    async def _continue_after_truncation(self, action: types.Action) -> types.StepResult | None:
        """LENGTH-continue: keep the truncated turn (parsed leniently) and go on; None if unsupported."""
        message, _ = self.renderer.parse_response(list(action))
        updated = await self.message_env.observe_truncated_response(message)
        if updated is None:
            return None
        next_observation = await self._render_in_thread(updated)
        if self._exceeds_context_limit(next_observation.length):
            return self._done(
                self.context_overflow_reward,
                {"context_overflow": 1.0, _stop(types.StopReason.CONTEXT_OVERFLOW): 1.0},
            )
        return types.StepResult(
            reward=0.0,
            episode_done=False,
            next_observation=next_observation,
            next_stop_condition=self._base_stop_condition,
            logs={"truncated_turn": "sampling stopped on 'length'; turn kept, episode continues"},
        )

    async def inject_messages(self, messages: list[Message]) -> tuple[ModelInput, StopCondition]:
        """Append hook-supplied messages before the next sampling call; TypeError if unsupported."""
        updated = await self.message_env.add_messages(messages)
        if updated is None:
            raise TypeError(
                f"{type(self.message_env).__name__} does not support message injection (add_messages returned None)"
            )
        return await self._render_in_thread(updated), self._base_stop_condition

    def set_max_tool_calls(self, max_tool_calls: int) -> None:
        """Forward a rollout-level tool-call cap to the inner env (warns when it cannot take one)."""
        setter = getattr(self.message_env, "set_max_tool_calls", None)
        if setter is None:
            logger.warning(
                "max_tool_calls=%d is configured, but %s does not support a tool-call limit; "
                "the limit will not be enforced.",
                max_tool_calls,
                type(self.message_env).__name__,
            )
            return
        setter(max_tool_calls)
