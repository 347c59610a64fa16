"""GPQA-Diamond (``Idavidrein/gpqa`` gpqa_diamond/train, gated): graduate science multiple choice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import (
    extract_mcq_answer,  # noqa: F401 (the cookbook module exposes it)
    format_mcq_choices,
    limit_dataset,
    load_benchmark_dataset,
    make_example_id,
)
from ._single_turn import MCQMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)


class GPQAMessageEnv(MCQMessageEnv):
    """One GPQA-Diamond question."""

    def __init__(self, prompt: str, expected: str, example_id: str = "", system_prompt: str | None = None):
        super().__init__(prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt)


class GPQABenchmarkBuilder(BenchmarkBuilder):
    """GPQA-Diamond: graduate-level science multiple-choice (198 questions)."""

    name = "gpqa"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = load_benchmark_dataset("Idavidrein/gpqa", name="gpqa_diamond", split="train")
        ds = limit_dataset(ds, config.max_examples)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            question = row["Question"]
            correct_answer = row.get("Answer", row.get("Correct Answer", ""))
            cols = [c for c in row if c.startswith("Choice") or c in ("choice_a", "choice_b", "choice_c", "choice_d")]
            if cols:
                choices = [row[c] for c in sorted(cols) if row.get(c)]
            else:
                choices = [row.get("Correct Answer", "")]
                choices += [row[f"Incorrect Answer {i}"] for i in range(1, 4) if row.get(f"Incorrect Answer {i}", "")]
            if not choices:
                continue
            if correct_answer in ("A", "B", "C", "D"):
                expected: str | None = correct_answer
            else:
                expected = next(
                    (chr(65 + i) for i, c in enumerate(choices) if c.strip() == str(correct_answer).strip()), None
                )
            if expected is None:
                logger.warning("GPQA: correct_answer %r does not match any choice, skipping example", correct_answer)
                continue
            prompt = (
                f"{question}\n\n{format_mcq_choices(choices)}\n\n"
                "Think step by step, then give your final answer as a single letter (A, B, C, or D)."
            )
            msg_env = GPQAMessageEnv(prompt, expected, make_example_id("gpqa", question), config.system_prompt)
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(GPQABenchmarkBuilder())
