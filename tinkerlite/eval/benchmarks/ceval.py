"""C-Eval (``ceval/ceval-exam`` val, 52 subjects): Chinese exam multiple choice (A-D)."""

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
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)


class CEvalMessageEnv(MCQMessageEnv):
    """One C-Eval question (its subject is logged)."""

    def __init__(
        self, prompt: str, expected: str, subject: str = "", example_id: str = "", system_prompt: str | None = None
    ):
        super().__init__(prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt,
                         extra_logs={"subject": subject})
        self.subject = subject


_CEVAL_SUBJECTS = [
    "computer_network", "operating_system", "computer_architecture", "college_programming", "college_physics",
    "college_chemistry", "advanced_mathematics", "probability_and_statistics", "discrete_mathematics",
    "electrical_engineer", "metrology_engineer", "high_school_mathematics", "high_school_physics",
    "high_school_chemistry", "high_school_biology", "middle_school_mathematics", "middle_school_biology",
    "middle_school_physics", "middle_school_chemistry", "veterinary_medicine", "college_economics",
    "business_administration", "marxism", "mao_zedong_thought", "education_science", "teacher_qualification",
    "high_school_politics", "high_school_geography", "middle_school_politics", "middle_school_geography",
    "modern_chinese_history", "ideological_and_moral_cultivation", "logic", "law",
    "chinese_language_and_literature", "art_studies", "professional_tour_guide", "legal_professional",
    "high_school_chinese", "high_school_history", "middle_school_history", "civil_servant", "sports_science",
    "plant_protection", "basic_medicine", "clinical_medicine", "urban_and_rural_planner", "accountant",
    "fire_engineer", "environmental_impact_assessment_engineer", "tax_accountant", "physician",
]  # fmt: skip


class CEvalBenchmarkBuilder(BenchmarkBuilder):
    """C-Eval: comprehensive Chinese exam benchmark (52 subjects, ~12K questions)."""

    name = "ceval"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        rows: list[tuple[dict[str, Any], str]] = []
        loaded = 0
        for subject in _CEVAL_SUBJECTS:
            try:
                ds = load_benchmark_dataset("ceval/ceval-exam", name=subject, split="val")
            except Exception as e:
                logger.debug(f"Could not load C-Eval subject {subject}: {e}")
                continue
            rows += [(dict(row), subject) for row in ds]
            loaded += 1
        if not rows:
            logger.warning("Could not load any C-Eval subjects")
            return []
        logger.info(f"Loaded C-Eval: {len(rows)} questions across {loaded} subjects")
        if config.max_examples is not None and config.max_examples < len(rows):
            random.Random(42).shuffle(rows)
            rows = rows[: config.max_examples]
        envs: list[Env] = []
        for row, subject in rows:
            question, answer = row.get("question", ""), row.get("answer", "")
            if not question or not answer:
                continue
            choices = [c for c in (row.get("A", ""), row.get("B", ""), row.get("C", ""), row.get("D", "")) if c]
            if len(choices) < 2:
                continue
            prompt = (
                f"{question}\n\n{format_mcq_choices(choices)}\n\n"
                "Think step by step, then give your final answer as a single letter (A, B, C, or D)."
            )
            msg_env = CEvalMessageEnv(prompt, answer.strip().upper(), subject=subject,
                                      example_id=make_example_id("ceval", question), system_prompt=config.system_prompt)
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(CEvalBenchmarkBuilder())
