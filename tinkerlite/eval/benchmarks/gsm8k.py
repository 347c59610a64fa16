"""GSM8K (``openai/gsm8k`` main/test): grade-school math; accuracy of the extracted number."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import (
    check_gsm8k,
    extract_boxed,
    extract_gsm8k_answer,
    extract_number,
    limit_dataset,
    load_benchmark_dataset,
    make_example_id,
)
from ._single_turn import GradedMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

__all__ = ["check_gsm8k", "extract_boxed", "extract_gsm8k_answer", "extract_number"]


class GSM8KMessageEnv(GradedMessageEnv):
    """One GSM8K problem."""

    def __init__(self, question: str, expected: str, example_id: str = "", system_prompt: str | None = None):
        super().__init__(question, expected, self._grade, example_id=example_id, system_prompt=system_prompt)
        self.question = question

    def _grade(self, response: str) -> tuple[bool, str]:
        return check_gsm8k(response, self.expected), extract_gsm8k_answer(response)


class GSM8KBenchmarkBuilder(BenchmarkBuilder):
    """GSM8K: 1,319 grade-school math word problems."""

    name = "gsm8k"
    recommended_system_prompt = "Put your final answer in \\boxed{}."

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("openai/gsm8k", name="main"), config.max_examples)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            expected = row["answer"].split("####")[-1].strip()
            msg_env = GSM8KMessageEnv(
                row["question"], expected, example_id=make_example_id("gsm8k", row["question"]),
                system_prompt=config.system_prompt,
            )
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(GSM8KBenchmarkBuilder())
