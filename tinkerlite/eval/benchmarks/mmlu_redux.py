"""MMLU-Redux (``edinburgh-dawg/mmlu-redux``, 30 subjects, rows with ``error_type == "ok"``): 4-choice MCQ
with a per-subject accuracy breakdown."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import (
    extract_mcq_answer,  # noqa: F401 (the cookbook module exposes it)
    format_mcq_choices,
    load_benchmark_dataset,
    make_example_id,
)
from ._single_turn import MCQMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)

_SUBJECTS = [
    "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_chemistry",
    "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
    "conceptual_physics", "econometrics", "electrical_engineering", "formal_logic", "global_facts",
    "high_school_chemistry", "high_school_geography", "high_school_macroeconomics", "high_school_mathematics",
    "high_school_physics", "high_school_statistics", "high_school_us_history", "human_aging",
    "logical_fallacies", "machine_learning", "miscellaneous", "philosophy", "professional_accounting",
    "professional_law", "public_relations", "virology",
]  # fmt: skip


def _load_mmlu_redux(max_examples: int | None) -> list[dict[str, Any]]:
    """Every subject's clean rows (``_subject`` added); a seeded sample of ``max_examples``."""
    rows: list[dict[str, Any]] = []
    for subject in _SUBJECTS:
        try:
            ds = load_benchmark_dataset("edinburgh-dawg/mmlu-redux", name=subject)
        except Exception as e:
            logger.warning(f"Could not load MMLU-Redux/{subject}: {e}")
            continue
        for row in ds:
            row = dict(row)
            row["_subject"] = subject
            if row.get("error_type", "ok") == "ok":
                rows.append(row)
    if max_examples and len(rows) > max_examples:
        random.Random(42).shuffle(rows)
        rows = rows[:max_examples]
    return rows


class MMLUReduxMessageEnv(MCQMessageEnv):
    """One MMLU-Redux question (its subject is logged)."""

    def __init__(
        self, prompt: str, expected: str, subject: str, example_id: str = "", system_prompt: str | None = None
    ):
        super().__init__(prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt,
                         extra_logs={"subject": subject})
        self.subject = subject


class MMLUReduxBenchmarkBuilder(BenchmarkBuilder):
    """MMLU-Redux: verified subset of MMLU (30 subjects, 4-choice MCQ)."""

    name = "mmlu_redux"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        rows = _load_mmlu_redux(config.max_examples)
        if not rows:
            logger.warning("Could not load MMLU-Redux dataset.")
            return []
        envs: list[Env] = []
        for row in rows:
            question, choices = row.get("question", ""), row.get("choices", [])
            if not question or not choices:
                continue
            prompt = f"{question}\n\n{format_mcq_choices(choices)}\n\nAnswer with just the letter (A, B, C, or D)."
            msg_env = MMLUReduxMessageEnv(
                prompt, chr(65 + int(row.get("answer", 0))), row.get("_subject", "unknown"),
                example_id=make_example_id("mmlu_redux", question), system_prompt=config.system_prompt,
            )
            envs.append(wrap(renderer, msg_env))
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Accuracy plus ``mmlu_redux/<subject>/accuracy``."""
        num_correct = sum(1 for r in rewards if r > 0)
        accuracy = num_correct / len(rewards) if rewards else 0.0
        by_subject: dict[str, list[bool]] = {}
        for r, m in zip(rewards, metrics_list, strict=False):
            subject = m.get("subject", "unknown")
            if isinstance(subject, str):
                by_subject.setdefault(subject, []).append(r > 0)
        metrics: dict[str, float] = {"mmlu_redux/accuracy": accuracy}
        for subject, res in sorted(by_subject.items()):
            metrics[f"mmlu_redux/{subject}/accuracy"] = sum(res) / len(res) if res else 0.0
        return BenchmarkResult(
            name=self.name, score=accuracy, num_examples=len(rewards), num_correct=num_correct, metrics=metrics
        )


from . import register  # noqa: E402

register(MMLUReduxBenchmarkBuilder())
