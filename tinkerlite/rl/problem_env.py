"""Single-turn question → answer environments with a format and a correctness reward (the cookbook's).

``reward = format_coef·(format - 1) + correct``: a well-formed wrong answer scores 0, a malformed one
``-format_coef``, a correct well-formed one 1. "Well-formed" needs the renderer's stop sequence (or any
clean end when ``require_stop_sequence_for_format=False``) and ``check_format``.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..completers import StopCondition
from ..types import ModelInput
from .types import Action, ActionExtra, Env, EnvGroupBuilder, Metrics, Observation, StepResult, Trajectory

__all__ = ["ProblemEnv", "ProblemGroupBuilder"]

logger = logging.getLogger(__name__)


class ProblemEnv(Env):
    def __init__(
        self,
        renderer: Any,
        convo_prefix: list[Any] | None = None,
        format_coef: float = 0.1,
        require_stop_sequence_for_format: bool = True,
    ) -> None:
        self.renderer = renderer
        self.convo_prefix = list(convo_prefix or [])
        self.format_coef = format_coef
        self.require_stop_sequence_for_format = require_stop_sequence_for_format

    @property
    def stop_condition(self) -> StopCondition:
        return self.renderer.get_stop_sequences()  # type: ignore[no-any-return]

    @abstractmethod
    def get_question(self) -> str: ...

    @abstractmethod
    def check_answer(self, sample_str: str) -> bool: ...

    @abstractmethod
    def check_format(self, sample_str: str) -> bool: ...

    @abstractmethod
    def get_reference_answer(self) -> str: ...

    def _convo(self) -> list[Any]:
        return [*self.convo_prefix, {"role": "user", "content": self.get_question()}]

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        return self.renderer.build_generation_prompt(self._convo()), self.stop_condition

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        from ..renderers.base import get_text_content

        message, termination = self.renderer.parse_response(list(action))
        content = get_text_content(message)
        well_formed = termination.is_stop_sequence if self.require_stop_sequence_for_format else termination.is_clean
        correct_format = float(bool(well_formed) and bool(self.check_format(content)))
        correct_answer = float(bool(self.check_answer(content)))
        return StepResult(
            reward=self.format_coef * (correct_format - 1) + correct_answer,
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=self.stop_condition,
            metrics={"format": correct_format, "correct": correct_answer},
            logs={"reference_answer": self.get_reference_answer(), "response": content[:500]},
        )


@dataclass(frozen=True)
class ProblemGroupBuilder(EnvGroupBuilder):
    """``num_envs`` copies of one problem: the group whose rewards are centred. Pickles if the thunk does
    (use ``functools.partial`` of a class, not a lambda)."""

    env_thunk: Callable[[], Env]
    num_envs: int
    dataset_name: str = "problems"

    async def make_envs(self) -> Sequence[Env]:
        return [self.env_thunk() for _ in range(self.num_envs)]

    async def compute_group_rewards(
        self, trajectory_group: list[Trajectory], env_group: Sequence[Env]
    ) -> list[tuple[float, Metrics]]:
        return [(0.0, {}) for _ in trajectory_group]

    def logging_tags(self) -> list[str]:
        return [self.dataset_name]
