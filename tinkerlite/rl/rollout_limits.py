"""Trajectory-level budgets and policies (the cookbook's ``rl.rollout_limits``).

:class:`RolloutLimits` bounds one trajectory (turns, tokens, tool calls, seconds; ``None`` = unlimited, so
``RolloutLimits()`` changes nothing). :class:`ParseErrorPolicy` says how a rollout answers parse failures
(structural ones always stop; content ones may be retried with a corrective user message).
:class:`TerminationRewardPolicy` says how rewards meet stop reasons (grade, then clamp limit stops to <= 0).
These only configure: :mod:`tinkerlite.rl.rollout_runner` and the tool env enforce them.

Runner check order each turn: max_turns and rollout_timeout (between turns), max_tool_calls pre-dispatch;
the per-turn token budget is min(max_turn_tokens, max_trajectory_tokens - observation length,
max_sampled_tokens - sampled so far); after sampling a "length" stop is handled first, then
max_sampled_tokens; max_tool_calls is re-checked mid-batch.
"""

from __future__ import annotations

from ..utils.config import configclass, field, validate
from .types import StopReason

__all__ = [
    "DEFAULT_LIMIT_STOP_REASONS",
    "DEFAULT_RETRY_MESSAGE_TEMPLATE",
    "ParseErrorPolicy",
    "RolloutLimits",
    "TerminationRewardPolicy",
]


def _positive_or_none(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be a positive value or None (unlimited), got {value!r}")


def _non_negative(obj: object, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value!r}")


DEFAULT_RETRY_MESSAGE_TEMPLATE = "The previous message had a formatting issue.\nError: {details}"
"""Corrective message injected after a recoverable (content) parse failure; ``{details}`` is the error."""


@configclass
class ParseErrorPolicy:
    """How a rollout responds to parse failures: structural -> stop with ``terminal_reward``; content ->
    up to ``max_consecutive`` retries with a corrective message (reward ``-penalty_per_error``)."""

    max_consecutive: int = field(default=0, doc="consecutive content parse failures to retry (0: first ends)")
    retry_message_template: str = field(
        default=DEFAULT_RETRY_MESSAGE_TEMPLATE, doc="corrective user message; must contain '{details}'"
    )
    penalty_per_error: float = field(default=0.0, doc="subtracted on each retried parse-error turn")
    terminal_reward: float = field(default=0.0, doc="reward of the turn that ends with StopReason.PARSE_ERROR")
    mask_error_turns: bool = field(default=False, doc="mark parse-error turns parse_error_masked (no loss)")

    @validate
    def _check(self) -> None:
        _non_negative(self, "max_consecutive", "penalty_per_error")
        if "{details}" not in self.retry_message_template:
            raise ValueError(
                "retry_message_template must contain the '{details}' placeholder, "
                f"got {self.retry_message_template!r}"
            )


@configclass
class RolloutLimits:
    """Budgets for one rollout; each, when hit, ends the episode with its ``StopReason`` (never raises,
    except ``sampling_turn_timeout_seconds``: the sampling call failed, there is no partial turn)."""

    max_turns: int | None = field(default=None, doc="sampling calls per rollout (StopReason.MAX_TURNS)")
    max_trajectory_tokens: int | None = field(default=None, doc="observation + action tokens (MAX_TOKENS)")
    max_sampled_tokens: int | None = field(default=None, doc="action tokens per rollout (MAX_SAMPLED_TOKENS)")
    max_tool_calls: int | None = field(default=None, doc="tool calls per rollout (MAX_TOOL_CALLS)")
    max_turn_tokens: int | None = field(default=None, doc="sampled tokens of one turn (truncation continues)")
    rollout_timeout_seconds: float | None = field(default=None, doc="wall clock per rollout (ROLLOUT_TIMEOUT)")
    sampling_turn_timeout_seconds: float | None = field(default=None, doc="wall clock per sampling call (raises)")

    @validate
    def _check(self) -> None:
        _positive_or_none(
            self,
            "max_turns",
            "max_trajectory_tokens",
            "max_sampled_tokens",
            "max_tool_calls",
            "max_turn_tokens",
            "rollout_timeout_seconds",
            "sampling_turn_timeout_seconds",
        )


DEFAULT_LIMIT_STOP_REASONS: tuple[str, ...] = (
    StopReason.MAX_TOKENS,
    StopReason.MAX_SAMPLED_TOKENS,
    StopReason.MAX_TURNS,
    StopReason.MAX_TOOL_CALLS,
    StopReason.ROLLOUT_TIMEOUT,
)
"""Stop reasons that mean a configured budget cut the trajectory off."""


@configclass
class TerminationRewardPolicy:
    """Grade normally, then (``zero_reward_on_limit``) clamp limit-stopped trajectories to ``min(r, 0)``."""

    zero_reward_on_limit: bool = field(default=False, doc="clamp limit-stopped rewards to <= 0 after grading")
    limit_stop_reasons: tuple[str, ...] = field(
        default=DEFAULT_LIMIT_STOP_REASONS, doc="stop reasons treated as limit stops"
    )
    skip_grading_on_timeout: bool = field(
        default=False, doc="use 0.0 without grading a rollout_timeout stop that would be clamped anyway"
    )
    grader_timeout_seconds: float | None = field(default=None, doc="bound on a grading call (TimeoutError)")
    pass_all_messages_to_grader: bool = field(
        default=False, doc="env-level grader sees the full history (default: only the completion suffix)"
    )

    @validate
    def _check(self) -> None:
        _positive_or_none(self, "grader_timeout_seconds")
