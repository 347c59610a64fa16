"""The tool-using agent as an RL environment (the cookbook's ``tool_use.agent_tool_message_env``).

Each assistant turn's tool calls run (in parallel or in order), their results join the history, and the
episode ends when the model stops calling tools, a tool says stop, or a turn / tool-call budget is hit;
``reward_fn`` grades the finished conversation once. Malformed tool calls follow the one-shot rule
(``failed_parse_reward``) or, with a :class:`ParseErrorPolicy`, bounded corrective retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..renderers import Renderer
from ..renderers.base import Message, ToolCall, UnparsedToolCall
from ..renderers.content import format_content_as_string, get_text_content
from ..renderers.parsing import PARSE_FAILURE_DETAIL_MAX_CHARS
from ..rl import types
from ..rl.message_env import EnvFromMessageEnv, MessageEnv, MessageStepResult
from ..rl.rollout_limits import ParseErrorPolicy, TerminationRewardPolicy
from ..rl.rollout_presets import RolloutConfig, ToolExecution, default_rollout_config_for_model
from .tools import handle_tool_call
from .types import Tool, ToolResult

__all__ = ["AgentToolMessageEnv", "RewardFn", "RewardResult", "build_agent_tool_env"]

RewardResult = tuple[float, dict[str, float]]
RewardFn = Callable[[list[Message]], Awaitable[RewardResult]]


def _stop(reason: types.StopReason) -> str:
    return f"{types.STOP_METRIC_PREFIX}{reason.value}"


@dataclass
class AgentToolMessageEnv(MessageEnv):
    """Generic tool-use MessageEnv for agents."""

    tools: list[Tool]
    initial_messages: list[Message]
    max_turns: int
    reward_fn: RewardFn
    failed_parse_reward: float = -0.1
    terminate_on_parse_error: bool = True
    max_tool_calls: int | None = None
    parse_error_policy: ParseErrorPolicy | None = None
    tool_execution: ToolExecution = "parallel"
    termination_policy: TerminationRewardPolicy | None = None
    history: list[Message] = field(default_factory=list)

    _turn_count: int = 0
    _consecutive_parse_errors: int = field(default=0, init=False)
    _tool_calls_made: int = field(default=0, init=False)
    _tool_dict: dict[str, Tool] = field(default_factory=dict, init=False)
    _should_stop: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._tool_dict = {t.name: t for t in self.tools}
        if self.tool_execution == "concurrent_safe":
            raise NotImplementedError(
                'tool_execution="concurrent_safe" is reserved: the Tool protocol has '
                "no concurrency-safety marker yet. Use 'sequential' or 'parallel'."
            )

    async def initial_observation(self) -> list[Message]:
        if not self.history:
            self.history = list(self.initial_messages)
        return self.history

    def set_max_tool_calls(self, max_tool_calls: int) -> None:
        """A rollout-level tool-call cap (the tighter of it and the env's own wins)."""
        current = self.max_tool_calls
        self.max_tool_calls = max_tool_calls if current is None else min(current, max_tool_calls)

    def set_parse_error_policy(self, policy: ParseErrorPolicy) -> None:
        """A rollout-level parse-error policy."""
        self.parse_error_policy = policy

    async def observe_truncated_response(self, message: Message) -> list[Message]:
        """Keep a truncated response as is (no tools run, counters untouched)."""
        self.history.append(message)
        return self.history

    async def add_messages(self, messages: list[Message]) -> list[Message]:
        self.history.extend(messages)
        return self.history

    async def _handle_tool_calls(self, tool_calls: list[ToolCall]) -> list[Message]:
        """Run the calls (``tool_execution`` order) and append their messages in request order."""
        results: list[ToolResult]
        if self.tool_execution == "sequential":
            results = [await handle_tool_call(self._tool_dict, tc) for tc in tool_calls]
        else:
            results = list(await asyncio.gather(*[handle_tool_call(self._tool_dict, tc) for tc in tool_calls]))
        out: list[Message] = []
        for result in results:
            for msg in result.messages:
                self.history.append(msg)
                out.append(msg)
            if result.should_stop:
                self._should_stop = True
        return out

    async def step(self, message: Message) -> MessageStepResult:
        """Run the message's tool calls; end on no calls, a stop, a parse failure or a budget."""
        self._turn_count += 1
        metrics: dict[str, float] = {}
        logs: types.Logs = {}
        self.history.append(message)
        text = get_text_content(message)
        if text:
            logs["assistant_content"] = text
        tool_calls: list[ToolCall] = list(message.get("tool_calls") or [])
        unparsed: list[UnparsedToolCall] = list(message.get("unparsed_tool_calls") or [])
        max_turns_reached = self._turn_count >= self.max_turns
        if unparsed:
            metrics["parse_error"] = 1.0
            logs["parse_errors"] = "\n".join(tc.error for tc in unparsed)
        if unparsed and not tool_calls:
            self._consecutive_parse_errors += 1
            if self.parse_error_policy is not None:
                return self._content_parse_error_step(unparsed, metrics, logs, max_turns_reached)
            done = self.terminate_on_parse_error or max_turns_reached
            if max_turns_reached:
                metrics["max_turns"] = 1.0
            if done:
                metrics[_stop(types.StopReason.PARSE_ERROR)] = 1.0
            return MessageStepResult(
                reward=self.failed_parse_reward,
                episode_done=done,
                next_messages=self.history,
                metrics=metrics,
                logs=logs,
            )
        self._consecutive_parse_errors = 0

        capped = False
        to_run = tool_calls
        if tool_calls and self.max_tool_calls is not None:
            remaining = max(self.max_tool_calls - self._tool_calls_made, 0)
            if len(tool_calls) > remaining:
                capped = True
                to_run = tool_calls[:remaining]
                logs["tool_calls_dropped"] = (
                    f"{len(tool_calls) - remaining} tool call(s) dropped: max_tool_calls={self.max_tool_calls} reached"
                )
        if to_run:
            for i, tc in enumerate(to_run):
                logs[f"tool_call_{i}"] = f"{tc.function.name}({tc.function.arguments})"
            result_messages = await self._handle_tool_calls(to_run)
            self._tool_calls_made += len(to_run)
            for i, msg in enumerate(result_messages):
                logs[f"tool_result_{i}"] = format_content_as_string(msg["content"])

        no_tool_calls = not tool_calls
        done = no_tool_calls or max_turns_reached or self._should_stop or capped
        if max_turns_reached and not no_tool_calls:
            metrics["max_turns"] = 1.0
        if self._should_stop:
            metrics["tool_stopped"] = 1.0
        if capped:
            metrics["max_tool_calls"] = 1.0
        reward = 0.0
        if done:
            if no_tool_calls:
                reason = types.StopReason.COMPLETED
            elif self._should_stop:
                reason = types.StopReason.TOOL_STOPPED
            elif capped:
                reason = types.StopReason.MAX_TOOL_CALLS
            else:
                reason = types.StopReason.MAX_TURNS
            metrics[_stop(reason)] = 1.0
            reward, reward_metrics = await self._grade()
            metrics.update(reward_metrics)
        return MessageStepResult(
            reward=reward, episode_done=done, next_messages=self.history, metrics=metrics, logs=logs
        )

    async def _grade(self) -> RewardResult:
        """``reward_fn`` on the history (only the completion suffix, bounded, under a termination policy)."""
        policy = self.termination_policy
        messages = self.history
        if policy is not None and not policy.pass_all_messages_to_grader:
            messages = self.history[len(self.initial_messages) :]
        timeout = policy.grader_timeout_seconds if policy is not None else None
        return await asyncio.wait_for(self.reward_fn(messages), timeout)

    def _content_parse_error_step(
        self, unparsed: list[UnparsedToolCall], metrics: dict[str, float], logs: types.Logs, max_turns_reached: bool
    ) -> MessageStepResult:
        """Retry with a corrective message while the policy's budget lasts; then stop with PARSE_ERROR."""
        policy = self.parse_error_policy
        assert policy is not None
        logs["parse_failure_kind"] = "content"
        if policy.mask_error_turns:
            metrics[types.PARSE_ERROR_MASKED_METRIC_KEY] = 1.0
        if self._consecutive_parse_errors <= policy.max_consecutive and not max_turns_reached:
            details = "\n".join(tc.error for tc in unparsed)[:PARSE_FAILURE_DETAIL_MAX_CHARS]
            self.history.append({"role": "user", "content": policy.retry_message_template.format(details=details)})
            logs["parse_error_retry"] = (
                f"injected corrective message (consecutive parse error "
                f"{self._consecutive_parse_errors}, budget {policy.max_consecutive})"
            )
            return MessageStepResult(
                reward=-policy.penalty_per_error,
                episode_done=False,
                next_messages=self.history,
                metrics=metrics,
                logs=logs,
            )
        if max_turns_reached:
            metrics["max_turns"] = 1.0
        metrics[_stop(types.StopReason.PARSE_ERROR)] = 1.0
        return MessageStepResult(
            reward=policy.terminal_reward, episode_done=True, next_messages=self.history, metrics=metrics, logs=logs
        )


def build_agent_tool_env(
    renderer: Renderer,
    tools: list[Tool],
    initial_messages: list[Message],
    reward_fn: RewardFn,
    *,
    rollout_config: RolloutConfig | None = None,
    model_name: str | None = None,
    max_turns: int | None = None,
    failed_parse_reward: float = -0.1,
    terminate_on_parse_error: bool = True,
    max_tool_calls: int | None = None,
    max_trajectory_tokens: int | None = None,
    max_generation_tokens: int | None = None,
    context_overflow_reward: float = -0.1,
    terminate_on_length: bool | None = None,
    parse_error_policy: ParseErrorPolicy | None = None,
) -> EnvFromMessageEnv:
    """An :class:`EnvFromMessageEnv` for a tool-using agent.

    ``rollout_config`` (or ``model_name``'s default) sets the env-side knobs; explicit keywords win.
    ``max_turns`` defaults to the config's limit, else 5; with a cumulative token budget in the config the
    runner owns LENGTH handling (``terminate_on_length`` defaults to False).
    """
    cfg = rollout_config
    if cfg is None and model_name is not None:
        cfg = default_rollout_config_for_model(model_name)
    if max_turns is None:
        max_turns = cfg.limits.max_turns if cfg is not None and cfg.limits.max_turns is not None else 5
    if parse_error_policy is None and cfg is not None:
        parse_error_policy = cfg.parse_errors
    if cfg is not None and cfg.limits.max_tool_calls is not None:
        limit = cfg.limits.max_tool_calls
        max_tool_calls = limit if max_tool_calls is None else min(max_tool_calls, limit)
    if terminate_on_length is None:
        runner_owns_length = cfg is not None and (
            cfg.limits.max_trajectory_tokens is not None
            or cfg.limits.max_sampled_tokens is not None
            or cfg.limits.max_turn_tokens is not None
        )
        terminate_on_length = not runner_owns_length
    msg_env = AgentToolMessageEnv(
        tools=tools,
        initial_messages=initial_messages,
        max_turns=max_turns,
        reward_fn=reward_fn,
        failed_parse_reward=failed_parse_reward,
        terminate_on_parse_error=terminate_on_parse_error,
        max_tool_calls=max_tool_calls,
        parse_error_policy=parse_error_policy,
        tool_execution=cfg.tool_execution if cfg is not None else "parallel",
        termination_policy=cfg.termination if cfg is not None else None,
    )
    return EnvFromMessageEnv(
        renderer=renderer,
        message_env=msg_env,
        failed_parse_reward=failed_parse_reward,
        terminate_on_parse_error=terminate_on_parse_error,
        max_trajectory_tokens=max_trajectory_tokens,
        max_generation_tokens=max_generation_tokens,
        context_overflow_reward=context_overflow_reward,
        terminate_on_length=terminate_on_length,
        parse_error_policy=parse_error_policy,
        rollout_limits=cfg.limits if cfg is not None else None,
    )
