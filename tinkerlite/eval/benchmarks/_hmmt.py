"""HMMT (Harvard-MIT Math Tournament) February / November 2025, as the cookbook's experimental ``_hmmt``.

Benchmarks ``hmmt_feb_2025`` and ``hmmt_nov_2025`` (30 problems each; ``MathArena/hmmt_*`` on HF, or local
JSONL copies, see ``_common.load_benchmark_dataset``). Answers are LaTeX expressions; the ``\\boxed{}``
answer is graded as MathArena does and the cookbook copies: normalised LaTeX string equality, then
numeric equality, then sympy equivalence through ``sympy.parsing.latex.parse_latex`` (needs sympy and
``antlr4-python3-runtime``; without them that step is skipped, as in the cookbook).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._common import extract_boxed, limit_dataset, load_benchmark_dataset, make_example_id
from ._single_turn import GradedMessageEnv, wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

_HMMT_DATASETS: dict[str, str] = {"feb_2025": "MathArena/hmmt_feb_2025", "nov_2025": "MathArena/hmmt_nov_2025"}


def _normalize_latex(s: str) -> str:
    """Strip ``$``, ``\\text{}``/``\\mathrm{}`` wrappers, ``\\left``/``\\right``, extra spaces and a final period."""
    s = s.strip().replace("$", "")
    s = re.sub(r"\\(?:text|mathrm)\{([^}]*)\}", r"\1", s)
    s = s.replace("\\left", "").replace("\\right", "")
    s = re.sub(r"\s+", " ", s).strip()
    return s.rstrip(".")


def _sympy_equal(a: str, b: str) -> bool:
    """Symbolic equality of two normalised LaTeX strings; False when sympy/antlr4 are missing or fail."""
    try:
        sympy = importlib.import_module("sympy")
        parse_latex = importlib.import_module("sympy.parsing.latex").parse_latex
        x, y = parse_latex(a), parse_latex(b)
        if x is None or y is None:
            return False
        if x.equals(y):
            return True
        diff = sympy.simplify(x - y)
        if diff == 0:
            return True
        return bool(abs(complex(sympy.N(diff))) < 1e-8)
    except Exception:
        return False


def _check_math_equal(extracted: str, expected: str) -> bool:
    """MathArena's three checks in order: normalised string, float within 1e-6, sympy equivalence."""
    a, b = _normalize_latex(extracted), _normalize_latex(expected)
    if a == b:
        return True
    if not a or not b:
        return False
    try:
        if abs(float(a) - float(b)) < 1e-6:
            return True
    except ValueError:
        pass
    return _sympy_equal(a, b)


class HMMTMessageEnv(GradedMessageEnv):
    """One HMMT problem: the ``\\boxed{}`` answer against the expected LaTeX (no box: incorrect)."""

    def __init__(self, problem: str, expected: str, example_id: str = "", system_prompt: str | None = None):
        prompt = (
            f"{problem}\n\n"
            "This is an HMMT competition problem. "
            "Show your work step by step, then put your final answer in \\boxed{}."
        )
        super().__init__(
            prompt, expected, self._grade, example_id=example_id, system_prompt=system_prompt, log_input=problem
        )
        self.problem = problem

    def _grade(self, response: str) -> tuple[bool, str]:
        extracted = extract_boxed(response) or ""
        return (_check_math_equal(extracted, self.expected) if extracted else False), extracted


def _load_hmmt(competition: str) -> Any | None:
    dataset_id = _HMMT_DATASETS.get(competition)
    if dataset_id is None:
        logger.warning(f"No known dataset for HMMT {competition}")
        return None
    for split in ("test", "train"):
        try:
            ds = load_benchmark_dataset(dataset_id, split=split)
            logger.info(f"Loaded HMMT {competition} from {dataset_id}/{split} ({len(ds)} problems)")
            return ds
        except Exception as e:
            logger.debug(f"Failed to load {dataset_id}/{split}: {e}")
    return None


class _HMMTBenchmarkBuilder(BenchmarkBuilder):
    """HMMT of one competition (experimental, as in the cookbook)."""

    experimental = True
    recommended_system_prompt = "Put your final answer in \\boxed{}."

    def __init__(self, competition: str, benchmark_name: str):
        self._competition = competition
        self.name = benchmark_name

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = _load_hmmt(self._competition)
        if ds is None:
            logger.warning(f"Could not load HMMT {self._competition} dataset")
            return []
        envs: list[Env] = []
        for row in limit_dataset(ds, config.max_examples):
            row = dict(row)
            problem = row.get("problem", row.get("question", ""))
            expected = str(row.get("answer", "")).strip()
            if not problem or not expected:
                continue
            msg_env = HMMTMessageEnv(problem, expected, make_example_id(self.name, problem), config.system_prompt)
            envs.append(wrap(renderer, msg_env))
        return envs


from . import register  # noqa: E402

register(_HMMTBenchmarkBuilder("feb_2025", "hmmt_feb_2025"))
register(_HMMTBenchmarkBuilder("nov_2025", "hmmt_nov_2025"))
