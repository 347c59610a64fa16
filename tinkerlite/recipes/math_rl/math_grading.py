"""Answer extraction and grading for math RL, under the cookbook's ``math_grading`` names.

Built on :mod:`tinkerlite.rl.grading` (exact rational comparison, sympy as an optional fallback). As in
the cookbook, :func:`extract_boxed` raises ``ValueError`` when there is no ``\\boxed{}``.
"""

from __future__ import annotations

import re
from typing import Any

from ...rl import grading

__all__ = ["extract_boxed", "grade_answer", "grade_answer_math_verify", "normalize_answer"]


def extract_boxed(text: str) -> str:
    """Contents of the last ``\\boxed{...}``; ``ValueError`` when there is none."""
    found = grading.extract_boxed(text)
    if found is None:
        raise ValueError("no \\boxed{} answer found")
    return found


def normalize_answer(answer: str | None) -> str | None:
    """Whitespace-, ``$``- and ``\\text{}``-insensitive form of an answer (None stays None)."""
    if answer is None:
        return None
    t = answer.strip().strip("$").strip()
    t = re.sub(r"\\text\{([^{}]*)\}", r"\1", t)
    t = t.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace(" ", "")
    return t.rstrip(".")


def grade_answer(given_answer: str, ground_truth: str) -> bool:
    """Same number (exactly, or equal under sympy when installed), or the same normalised string."""
    if grading.grade_numeric(given_answer, ground_truth):
        return True
    a, b = normalize_answer(given_answer), normalize_answer(ground_truth)
    return a is not None and a == b and a != ""


def grade_answer_math_verify(given_answer: str, ground_truth: str) -> bool:
    """The cookbook's ``math_verify`` grader; needs the ``math-verify`` package."""
    from ..._optional import try_import

    mv: Any = try_import("math_verify")
    if mv is None:
        raise ImportError("grader='math_verify' needs the 'math-verify' package: pip install math-verify")
    return bool(mv.verify(mv.parse(f"${ground_truth}$"), mv.parse(f"${given_answer}$")))
