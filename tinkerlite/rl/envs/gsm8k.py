"""GSM8K-style word problems from a local JSONL file, graded numerically (no sympy needed).

Each line is ``{"question": str, "answer": str}``; an answer in GSM8K's own form (reasoning, then
``#### 1,234``) is reduced to the number after ``####`` with commas removed, as the cookbook does.
The prompt asks for ``\\boxed{}`` (the cookbook's MathEnv suffix, which its GSM8K recipe uses); the
response is well-formed when it has a box, and correct when the boxed value equals the answer as a
number (:func:`tinkerlite.rl.grading.grade_numeric`; sympy only as a fallback when installed).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ...errors import ValidationError
from ...utils.config import configclass
from ..grading import extract_boxed, grade_numeric
from ..problem_env import ProblemEnv, ProblemGroupBuilder
from ..types import EnvGroupBuilder, RLDataset, RLDatasetBuilder

__all__ = ["Gsm8kEnv", "Gsm8kJsonlDatasetBuilder", "ProblemListDataset", "read_problems", "standard_fewshot_prefix"]

QUESTION_SUFFIX = " Write your answer in \\boxed{} format."


def standard_fewshot_prefix() -> list[dict[str, str]]:
    return [
        {"role": "user", "content": "How many r's are in strawberry?" + QUESTION_SUFFIX},
        {
            "role": "assistant",
            "content": "Let's spell the word out and number all the letters: 1) s 2) t 3) r 4) a 5) w 6) b 7) e "
            "8) r 9) r 10) y. We have r's at positions 3, 8, and 9. \\boxed{3}",
        },
    ]


def gsm8k_final_answer(answer: str) -> str:
    """``"...#### 1,234"`` → ``"1234"``; an answer without ``####`` is taken as it is."""
    if "####" in answer:
        answer = answer.split("####")[-1]
    return answer.strip().replace(",", "")


def read_problems(path: str | Path) -> list[tuple[str, str]]:
    """(question, final answer) per line; names the line and field of anything malformed."""
    out: list[tuple[str, str]] = []
    p = Path(path)
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{p.name}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValidationError(f"invalid JSON ({e.msg})", field=where) from None
            if not isinstance(row, dict):
                raise ValidationError("each line must be a JSON object", field=where)
            for key in ("question", "answer"):
                if not isinstance(row.get(key), (str, int, float)) or isinstance(row.get(key), bool):
                    raise ValidationError(f"needs a string {key!r}", field=f"{where}.{key}")
            answer = gsm8k_final_answer(str(row["answer"]))
            if not answer:
                raise ValidationError("empty answer", field=f"{where}.answer")
            out.append((str(row["question"]), answer))
    if not out:
        raise ValidationError("no problems in the file", field=str(p))
    return out


class Gsm8kEnv(ProblemEnv):
    def __init__(
        self,
        problem: str,
        answer: str,
        renderer: Any,
        convo_prefix: list[Any] | None = None,
        use_sympy: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(renderer, convo_prefix, **kw)
        self.problem, self.answer, self.use_sympy = problem, answer, use_sympy

    def get_question(self) -> str:
        return self.problem + QUESTION_SUFFIX

    def check_format(self, sample_str: str) -> bool:
        return extract_boxed(sample_str) is not None

    def check_answer(self, sample_str: str) -> bool:
        return grade_numeric(extract_boxed(sample_str), self.answer, use_sympy=self.use_sympy)

    def get_reference_answer(self) -> str:
        return self.answer


class ProblemListDataset(RLDataset):
    """Fixed batches over a (shuffled) problem list: batch ``i`` is the same on every run and resume."""

    def __init__(
        self,
        problems: Sequence[tuple[str, str]],
        batch_size: int,
        group_size: int,
        renderer: Any,
        convo_prefix: list[Any] | None,
        name: str = "gsm8k",
    ) -> None:
        if batch_size < 1 or group_size < 1:
            raise ValidationError("batch_size and group_size must be >= 1", field="ProblemListDataset")
        self.problems, self.batch_size, self.group_size = list(problems), batch_size, group_size
        self.renderer, self.convo_prefix, self.name = renderer, convo_prefix, name

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        rows = self.problems[index * self.batch_size : (index + 1) * self.batch_size]
        return [
            ProblemGroupBuilder(
                env_thunk=partial(Gsm8kEnv, q, a, self.renderer, convo_prefix=self.convo_prefix),
                num_envs=self.group_size,
                dataset_name=self.name,
            )
            for q, a in rows
        ]

    def __len__(self) -> int:
        return -(-len(self.problems) // self.batch_size)


@configclass
class Gsm8kJsonlDatasetBuilder(RLDatasetBuilder):
    file_path: str
    batch_size: int
    group_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    test_size: int = 0
    seed: int = 0
    convo_prefix: Literal["standard"] | None = "standard"

    async def __call__(self) -> tuple[ProblemListDataset, ProblemListDataset | None]:
        from ._common import make_renderer

        problems = read_problems(self.file_path)
        random.Random(self.seed).shuffle(problems)
        if self.test_size >= len(problems):
            raise ValidationError(f"test_size {self.test_size} leaves no training problems", field="test_size")
        test, train = problems[: self.test_size], problems[self.test_size :]
        renderer = make_renderer(self.model_name_for_tokenizer, self.renderer_name)
        prefix = standard_fewshot_prefix() if self.convo_prefix == "standard" else None
        train_ds = ProblemListDataset(train, self.batch_size, self.group_size, renderer, prefix)
        test_ds = ProblemListDataset(test, len(test), 1, renderer, prefix, name="gsm8k_test") if test else None
        return train_ds, test_ds
