"""MATH-500 (``HuggingFaceH4/MATH-500`` test): competition math, graded on the ``\\boxed{}`` answer with the
math_rl grader (answer normalisation, then sympy equivalence)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import limit_dataset, load_benchmark_dataset, make_example_id
from ._single_turn import GradedMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)


class MATH500MessageEnv(GradedMessageEnv):
    """One MATH-500 problem."""

    def __init__(self, problem: str, expected: str, example_id: str = "", system_prompt: str | None = None):
        prompt = problem + " Put your final answer in \\boxed{}."
        super().__init__(
            prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt, log_input=problem
        )
        self.problem = problem

    def _grade(self, response: str) -> tuple[bool, str]:
        from ...recipes.math_rl.math_grading import extract_boxed, grade_answer

        try:
            given = extract_boxed(response)
            correct = grade_answer(given, self.expected)
        except ValueError:
            given, correct = "", False
        return correct, str(given)[:200]


class MATH500BenchmarkBuilder(BenchmarkBuilder):
    """MATH-500: 500 competition math problems from the Hendrycks MATH dataset."""

    name = "math500"
    recommended_system_prompt = "Put your final answer in \\boxed{}."

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        from ...recipes.math_rl.math_grading import extract_boxed

        ds = limit_dataset(load_benchmark_dataset("HuggingFaceH4/MATH-500"), config.max_examples)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            try:
                expected = extract_boxed(row["solution"])
            except ValueError:
                continue
            msg_env = MATH500MessageEnv(
                row["problem"], expected, make_example_id("math500", row["problem"]), config.system_prompt
            )
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(MATH500BenchmarkBuilder())
