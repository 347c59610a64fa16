"""One rollout configuration value instead of four knobs (the cookbook's ``rl.rollout_presets``).

:func:`simple` is the unconfigured behaviour; :func:`agentic` is the cookbook's opinionated multi-turn
tool-use preset (10 turns, 65536 trajectory tokens, 30 tool calls, 2 parse retries, limit stops clamped to
<= 0, grading bounded at 900 s, sequential tools). Consumed by ``build_agent_tool_env(rollout_config=)``,
``run_rollout(config=)`` and ``do_group_rollout(termination=)``.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from ..utils.config import configclass, field
from .rollout_limits import ParseErrorPolicy, RolloutLimits, TerminationRewardPolicy
from .rollout_strategy import FailFast, MinViableGroup, RolloutStrategy

__all__ = [
    "RolloutConfig",
    "ToolExecution",
    "agentic",
    "default_rollout_config_for_model",
    "default_rollout_strategy_for_model",
    "simple",
]

ToolExecution: TypeAlias = Literal["sequential", "parallel", "concurrent_safe"]
"""How an env runs a turn's tool calls: "parallel" (asyncio.gather, default), "sequential" (in request
order: tools sharing mutable state), "concurrent_safe" (reserved: the Tool protocol has no safety marker)."""

_INKLING = "thinkingmachines/Inkling"


@configclass
class RolloutConfig:
    """All rollout policy knobs; ``RolloutConfig()`` (== :func:`simple`) changes nothing."""

    limits: RolloutLimits = field(default_factory=RolloutLimits, doc="per-rollout budgets (default unlimited)")
    parse_errors: ParseErrorPolicy | None = field(default=None, doc="parse-failure handling (None: one-shot)")
    termination: TerminationRewardPolicy | None = field(default=None, doc="stop-reason reward semantics")
    tool_execution: ToolExecution = field(default="parallel", doc="'parallel', 'sequential' or 'concurrent_safe'")


def simple() -> RolloutConfig:
    """No budgets, one-shot parse failures, rewards untouched, parallel tools: the same as no config."""
    return RolloutConfig()


def agentic() -> RolloutConfig:
    """The cookbook's multi-turn tool-use preset (see the module docstring for each value's reason)."""
    return RolloutConfig(
        limits=RolloutLimits(max_turns=10, max_trajectory_tokens=65536, max_tool_calls=30),
        parse_errors=ParseErrorPolicy(max_consecutive=2),
        termination=TerminationRewardPolicy(
            zero_reward_on_limit=True, skip_grading_on_timeout=True, grader_timeout_seconds=900
        ),
        tool_execution="sequential",
    )


def _is_inkling(model_name: str) -> bool:
    return model_name.split(":", 1)[0].startswith(_INKLING)


def default_rollout_config_for_model(model_name: str) -> RolloutConfig:
    """Inkling models (``:peft:`` variants included) get :func:`agentic`; every other model :func:`simple`."""
    return agentic() if _is_inkling(model_name) else simple()


def default_rollout_strategy_for_model(model_name: str) -> RolloutStrategy:
    """Inkling models get :class:`MinViableGroup`; every other model :class:`FailFast`."""
    return MinViableGroup() if _is_inkling(model_name) else FailFast()
