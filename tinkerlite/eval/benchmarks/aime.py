"""AIME 2025 / 2026 (MathArena datasets): integer answers 000-999; ``aime`` is AIME 2025."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ...rl.types import Env
from ._common import (
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

_AIME_DATASETS: dict[str, str] = {"2025": "MathArena/aime_2025", "2026": "MathArena/aime_2026"}


def _load_aime_dataset(year: str) -> Any | None:
    dataset_id = _AIME_DATASETS.get(year)
    if dataset_id is None:
        logger.warning(f"No known dataset for AIME {year}")
        return None
    for split in ("test", "train"):
        try:
            ds = load_benchmark_dataset(dataset_id, split=split)
            logger.info(f"Loaded AIME {year} from {dataset_id}/{split} ({len(ds)} problems)")
            return ds
        except Exception as e:
            logger.debug(f"Failed to load {dataset_id}/{split}: {e}")
    return None


def _aime_value(text: str) -> int | None:
    try:
        numeric = Decimal(text)
        if numeric.is_finite() and numeric == numeric.to_integral_value() and 0 <= numeric <= 999:
            return int(numeric)
    except (InvalidOperation, ValueError, TypeError):
        pass
    return None


class AIMEMessageEnv(GradedMessageEnv):
    """One AIME problem."""

    def __init__(self, problem: str, expected: int, example_id: str = "", system_prompt: str | None = None):
        prompt = (
            f"{problem}\n\n"
            "This is an AIME problem. The answer is an integer from 000 to 999. "
            "Show your work step by step, then put your final answer in \\boxed{}."
        )
        super().__init__(
            prompt, str(expected), self._grade, example_id=example_id, system_prompt=system_prompt, log_input=problem
        )
        self.problem = problem
        self.expected_value = expected

    def _grade(self, response: str) -> tuple[bool, str]:
        boxed = extract_boxed(response)
        extracted = extract_number(boxed) if boxed else extract_gsm8k_answer(response)
        value = _aime_value(extracted)
        return value is not None and value == self.expected_value, str(value) if value is not None else extracted


class _AIMEBenchmarkBuilder(BenchmarkBuilder):
    """AIME of one year."""

    recommended_system_prompt = "Put your final answer in \\boxed{}."

    def __init__(self, year: str, benchmark_name: str):
        self._year = year
        self.name = benchmark_name

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = _load_aime_dataset(self._year)
        if ds is None:
            logger.warning(f"Could not load AIME {self._year} dataset from HuggingFace.")
            return []
        envs: list[Env] = []
        for row in limit_dataset(ds, config.max_examples):
            row = dict(row)
            problem = row.get("problem", row.get("question", row.get("Problem", "")))
            expected_raw = row.get("answer", row.get("Answer", row.get("expected_answer", "")))
            if not problem or expected_raw is None:
                continue
            try:
                expected = int(str(expected_raw).strip())
            except (ValueError, TypeError):
                m = re.search(r"\d+", str(expected_raw))
                if not m:
                    continue
                expected = int(m.group(0))
            msg_env = AIMEMessageEnv(problem, expected, make_example_id(self.name, problem), config.system_prompt)
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(_AIMEBenchmarkBuilder("2025", "aime_2025"))
register(_AIMEBenchmarkBuilder("2026", "aime_2026"))
register(_AIMEBenchmarkBuilder("2025", "aime"))
