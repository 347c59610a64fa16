"""What users write environments against: the cookbook's RL contracts, unchanged in name and meaning."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeAlias, TypedDict

from ..completers import StopCondition, TokensWithLogprobs
from ..errors import ValidationError
from ..types import ModelInput
from ..utils.config import configclass

__all__ = [
    "PARSE_ERROR_MASKED_METRIC_KEY",
    "STOP_METRIC_PREFIX",
    "Action",
    "ActionExtra",
    "Env",
    "EnvGroupBuilder",
    "InitialObservationOverflow",
    "Logprobs",
    "Logs",
    "Metrics",
    "Observation",
    "RLDataset",
    "RLDatasetBuilder",
    "RolloutError",
    "StepResult",
    "StopCondition",
    "StopReason",
    "TokensWithLogprobs",
    "Trajectory",
    "TrajectoryGroup",
    "Transition",
]

Action: TypeAlias = list[int]
Observation: TypeAlias = ModelInput
Logprobs: TypeAlias = list[float]
Metrics: TypeAlias = dict[str, float | int]
Logs: TypeAlias = dict[str, str | int | float]


class StopReason(str, Enum):
    """Why an episode ended; recorded as a one-hot ``stop/<reason>`` metric on the last transition."""

    COMPLETED = "completed"
    TOOL_STOPPED = "tool_stopped"
    MAX_TURNS = "max_turns"
    MAX_TOKENS = "max_tokens"
    MAX_SAMPLED_TOKENS = "max_sampled_tokens"
    MAX_TOOL_CALLS = "max_tool_calls"
    CONTEXT_OVERFLOW = "context_overflow"
    PARSE_ERROR = "parse_error"
    ROLLOUT_TIMEOUT = "rollout_timeout"

    def __str__(self) -> str:
        return self.value


STOP_METRIC_PREFIX = "stop/"
PARSE_ERROR_MASKED_METRIC_KEY = "parse_error_masked"


@dataclass(frozen=True)
class InitialObservationOverflow:
    """Returned by ``initial_observation`` when the prompt alone exceeds the budget: ends the episode
    with this reward and no training tokens, instead of failing the whole group."""

    reward: float
    metrics: Metrics = field(default_factory=dict)
    logs: Logs = field(default_factory=dict)


@dataclass
class StepResult:
    reward: float
    episode_done: bool
    next_observation: Observation
    next_stop_condition: StopCondition
    metrics: Metrics = field(default_factory=dict)
    logs: Logs = field(default_factory=dict)


@dataclass
class Transition:
    ob: Observation
    ac: TokensWithLogprobs
    reward: float
    episode_done: bool
    metrics: Metrics = field(default_factory=dict)
    logs: Logs = field(default_factory=dict)


class ActionExtra(TypedDict, total=False):
    stop_reason: str


class Env(ABC):
    """Single-use: one episode, then discard."""

    @abstractmethod
    async def initial_observation(self) -> tuple[Observation, StopCondition] | InitialObservationOverflow: ...

    @abstractmethod
    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult: ...


@dataclass(frozen=True)
class Trajectory:
    transitions: list[Transition]
    final_ob: Observation
    stop_reason: str | None = None


@dataclass(frozen=True)
class RolloutError:
    error_type: str
    error_message: str


class EnvGroupBuilder(ABC):
    """Makes a group of envs whose rewards are compared (GRPO centering, pairwise judges). Must pickle."""

    @abstractmethod
    async def make_envs(self) -> Sequence[Env]: ...

    async def compute_group_rewards(
        self, trajectory_group: list[Trajectory], env_group: Sequence[Env]
    ) -> list[tuple[float, Metrics]]:
        return [(0.0, {}) for _ in trajectory_group]

    def logging_tags(self) -> list[str]:
        return []

    async def cleanup(self) -> None:
        return None


@dataclass
class TrajectoryGroup:
    trajectories_G: list[Trajectory]
    final_rewards_G: list[float]
    metrics_G: list[Metrics]
    rollout_errors: list[RolloutError] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not (len(self.trajectories_G) == len(self.final_rewards_G) == len(self.metrics_G)):
            raise ValidationError(
                f"{len(self.trajectories_G)} trajectories, {len(self.final_rewards_G)} group rewards and "
                f"{len(self.metrics_G)} metrics dicts must match",
                field="TrajectoryGroup",
            )

    def get_total_rewards(self) -> list[float]:
        """Per trajectory: the sum of its step rewards plus its group reward."""
        return [
            sum(t.reward for t in traj.transitions) + final
            for traj, final in zip(self.trajectories_G, self.final_rewards_G, strict=True)
        ]


class RLDataset(ABC):
    @abstractmethod
    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]: ...

    @abstractmethod
    def __len__(self) -> int: ...


@configclass
class RLDatasetBuilder:
    """A config class (chz when installed, see :mod:`tinkerlite.utils.config`) that builds ``(train, test | None)``.

    As in the cookbook, subclasses are ``@chz.chz`` (or ``@configclass``) classes and implement ``__call__``.
    """

    @abstractmethod
    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        raise NotImplementedError
