"""MMLU-Pro (``TIGER-Lab/MMLU-Pro`` test): professional multiple choice with up to ten options."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import extract_mcq_answer, format_mcq_choices, limit_dataset, load_benchmark_dataset, make_example_id
from ._single_turn import MCQMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

__all__ = ["extract_mcq_answer"]


class MMLUProMessageEnv(MCQMessageEnv):
    """One MMLU-Pro question."""

    def __init__(
        self, prompt: str, expected: str, valid_letters: str, example_id: str = "", system_prompt: str | None = None
    ):
        super().__init__(prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt)
        self.valid_letters = valid_letters


class MMLUProBenchmarkBuilder(BenchmarkBuilder):
    """MMLU-Pro: professional-level multiple-choice questions (up to 10 options)."""

    name = "mmlu_pro"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("TIGER-Lab/MMLU-Pro"), config.max_examples, shuffle_seed=42)
        valid_letters = "ABCDEFGHIJ"
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            question = str(row.get("question", row.get("input", "")))
            choices = row.get("options", row.get("choices", []))
            answer_idx = row.get("answer_index", row.get("answer"))
            if choices:
                prompt = (
                    f"{question}\n\n{format_mcq_choices(choices)}\n\nAnswer with just the letter (A, B, C, D, etc.)."
                )
            else:
                prompt = f"{question}\n\nAnswer with just the letter."
            if isinstance(answer_idx, int):
                expected = chr(65 + answer_idx)
            elif isinstance(answer_idx, str) and len(answer_idx) == 1:
                expected = answer_idx.upper()
            else:
                expected = str(answer_idx).strip().upper()
            qid = row.get("question_id")
            example_id = f"mmlu_pro_{qid}" if qid is not None else make_example_id("mmlu_pro", question)
            envs.append(
                wrap(renderer, MMLUProMessageEnv(prompt, expected, valid_letters, example_id, config.system_prompt))
            )
        return envs


from . import register  # noqa: E402

register(MMLUProBenchmarkBuilder())
