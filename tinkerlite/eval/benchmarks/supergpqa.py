"""SuperGPQA (``m-a-p/SuperGPQA`` train): graduate QA over 285 disciplines, 4-10 options (A-J)."""

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


class SuperGPQAMessageEnv(MCQMessageEnv):
    """One SuperGPQA question (its discipline is logged)."""

    def __init__(
        self,
        prompt: str,
        expected: str,
        valid_letters: str = "ABCD",
        discipline: str = "",
        example_id: str = "",
        system_prompt: str | None = None,
    ):
        super().__init__(prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt,
                         extra_logs={"discipline": discipline})
        self.valid_letters = valid_letters
        self.discipline = discipline


class SuperGPQABenchmarkBuilder(BenchmarkBuilder):
    """SuperGPQA: graduate-level QA across 285 disciplines (26K+ questions)."""

    name = "supergpqa"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("m-a-p/SuperGPQA", split="train"), config.max_examples,
                           shuffle_seed=42)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            question, options, answer = row.get("question", ""), row.get("options", []), row.get("answer_letter", "")
            if not question or not options or not answer:
                continue
            letters = "".join(chr(65 + i) for i in range(len(options)))
            prompt = (
                f"{question}\n\n{format_mcq_choices(options)}\n\n"
                f"Think step by step, then give your final answer as a single letter ({', '.join(letters)})."
            )
            msg_env = SuperGPQAMessageEnv(
                prompt, answer.strip().upper(), valid_letters=letters, discipline=row.get("discipline", ""),
                example_id=row.get("uuid", "") or make_example_id("supergpqa", question),
                system_prompt=config.system_prompt,
            )
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(SuperGPQABenchmarkBuilder())
