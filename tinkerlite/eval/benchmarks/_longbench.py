"""LongBench v2 (long-context comprehension), as the cookbook's experimental ``_longbench``.

Benchmark ``longbench`` (``THUDM/LongBench-v2`` on HF, or a local JSONL copy, see
``_common.load_benchmark_dataset``): read a long text, answer a question. Rows with ``choice_A..D`` are
multiple choice, graded on the last standalone letter A-D in the response's final 300 characters;
others are graded on the expected answer appearing as a whole word (case-insensitive). The score is
accuracy, with a per-domain breakdown (``longbench/<domain>/accuracy``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import tinkerlite as tinker

from ...renderers.base import Message
from ...rl.types import Env, StepResult
from ._common import decode_response, format_mcq_choices, limit_dataset, load_benchmark_dataset, make_example_id
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)


def _load_longbench() -> Any | None:
    for split in ("test", "train"):
        try:
            ds = load_benchmark_dataset("THUDM/LongBench-v2", split=split)
            logger.info(f"Loaded LongBench v2 from THUDM/LongBench-v2/{split} ({len(ds)} examples)")
            return ds
        except Exception:
            continue
    return None


def _grade(response: str, expected: str, is_mcq: bool) -> tuple[bool, str]:
    """(correct, extracted) for one response."""
    if is_mcq:
        letters = re.findall(r"\b([A-D])\b", response[-300:])
        extracted = letters[-1] if letters else ""
        return extracted == expected, extracted
    pattern = r"\b" + re.escape(str(expected).strip()) + r"\b"
    return bool(re.search(pattern, response, re.IGNORECASE)), response.strip()[:200]


class LongBenchEnv(Env):
    """Single-turn env for one LongBench question (a token-level env, as in the cookbook)."""

    def __init__(
        self, user_content: str, expected: str, subtask: Any, is_mcq: bool, renderer: Any, example_id: str = ""
    ):
        self.user_content = user_content
        self.expected = expected
        self.subtask = subtask
        self.is_mcq = is_mcq
        self.renderer = renderer
        self.example_id = example_id

    async def initial_observation(self) -> Any:
        messages: list[Message] = [{"role": "user", "content": self.user_content}]
        return self.renderer.build_generation_prompt(messages), self.renderer.get_stop_sequences()

    async def step(self, action: Any, *, extra: Any = None) -> StepResult:
        response = decode_response(action, self.renderer)
        correct, extracted = _grade(response, self.expected, self.is_mcq)
        return StepResult(
            reward=1.0 if correct else 0.0,
            episode_done=True,
            next_observation=tinker.ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(correct), "subtask": self.subtask},  # a string metric: aggregate groups by it
            logs={
                "example_id": self.example_id,
                "input": self.user_content[:200],
                "expected": self.expected,
                "extracted": extracted,
                "subtask": self.subtask,
                "output": response[:200],
            },
        )


def _user_content(context: str, question: str, choices: list[str]) -> str:
    head = (
        "Read the following text carefully, then answer the question.\n\n"
        f"--- TEXT ---\n{context}\n--- END TEXT ---\n\nQuestion: {question}\n\n"
    )
    if choices:
        return f"{head}{format_mcq_choices(choices)}\n\nAnswer with just the letter (A, B, C, or D)."
    return f"{head}Give a concise answer."


class LongBenchBenchmarkBuilder(BenchmarkBuilder):
    """LongBench: long-context comprehension across multiple subtasks (experimental, as in the cookbook)."""

    name = "longbench"
    experimental = True

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = _load_longbench()
        if ds is None:
            logger.warning("Could not load LongBench dataset.")
            return []
        envs: list[Env] = []
        for row in limit_dataset(ds, config.max_examples, shuffle_seed=42):
            row = dict(row)
            context = row.get("context", "")
            subtask = row.get("domain", row.get("dataset", "unknown"))
            question = row.get("question", row.get("input", ""))
            choices = [c for c in (row.get(f"choice_{x}", "") for x in "ABCD") if c]
            expected = str(row.get("answer", "")).strip().upper()
            is_mcq = bool(choices) and expected in ("A", "B", "C", "D")
            if not question or not context:
                continue
            envs.append(
                LongBenchEnv(
                    _user_content(context, question, choices),
                    expected,
                    subtask,
                    is_mcq,
                    renderer,
                    example_id=make_example_id("longbench", question),
                )
            )
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Accuracy, and accuracy per subtask (the ``subtask`` metric each env reports)."""
        num_correct = sum(1 for r in rewards if r > 0)
        accuracy = num_correct / len(rewards) if rewards else 0.0
        by_subtask: dict[str, list[bool]] = {}
        for r, m in zip(rewards, metrics_list, strict=False):
            st = m.get("subtask", "unknown")
            if isinstance(st, str):
                by_subtask.setdefault(st, []).append(r > 0)
        metrics: dict[str, float] = {"longbench/accuracy": accuracy}
        for st, res in sorted(by_subtask.items()):
            metrics[f"longbench/{st}/accuracy"] = sum(res) / len(res) if res else 0.0
        return BenchmarkResult(
            name=self.name, score=accuracy, num_examples=len(rewards), num_correct=num_correct, metrics=metrics
        )


from . import register  # noqa: E402

register(LongBenchBenchmarkBuilder())
