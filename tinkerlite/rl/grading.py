"""Answer extraction and numeric grading for math-style environments, stdlib first.

``grade_numeric`` compares numbers exactly with :class:`fractions.Fraction` (integers, decimals,
fractions ``a/b``, thousands separators, a trailing ``%`` or unit word are handled), so GSM8K-style
answers need no sympy. When sympy is installed and the plain comparison fails, both sides are parsed
as expressions and their difference simplified (``1/2`` vs ``0.5``, ``2^3`` vs ``8``, ``\\frac{1}{2}``).
"""

from __future__ import annotations

import re
from fractions import Fraction

from .._optional import try_import

__all__ = ["extract_boxed", "extract_final_number", "grade_numeric", "parse_number"]

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+")
_FRAC = re.compile(r"\\d?frac\{([^{}]*)\}\{([^{}]*)\}")


def extract_boxed(text: str) -> str | None:
    """Contents of the last ``\\boxed{...}`` (brace-matched), or of ``\\boxed X``; None if absent."""
    idx = text.rfind("\\boxed")
    if idx < 0:
        return None
    rest = text[idx + len("\\boxed") :]
    if rest.startswith("{"):
        depth = 0
        for i, ch in enumerate(rest):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return rest[1:i]
        return None
    if rest.startswith(" "):
        word = rest.strip().split()
        return word[0].rstrip("$.") if word else None
    return None


def _clean(text: str) -> str:
    t = text.strip().strip("$").strip()
    t = _FRAC.sub(r"(\1)/(\2)", t)
    t = t.replace("\\!", "").replace("\\,", "").replace("\\$", "").replace("dfrac", "frac")
    t = re.sub(r"\\text\{[^{}]*\}", "", t)
    return t.strip()


def parse_number(text: str) -> Fraction | None:
    """The number ``text`` denotes (``"1,234"``, ``"-3.50"``, ``"7/8"``, ``"(1)/(2)"``, ``"15%"``), else None."""
    t = _clean(text).replace(" ", "").rstrip(".").rstrip("%")
    t = t.replace("(", "").replace(")", "")
    if not t:
        return None
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            return Fraction(num.replace(",", "")) / Fraction(den.replace(",", ""))
        return Fraction(t.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def extract_final_number(text: str) -> str | None:
    """The last number written in ``text`` (GSM8K answers end with it), as written."""
    matches = _NUMBER.findall(text)
    return matches[-1] if matches else None


_SAFE_EXPR = re.compile(r"^[0-9a-zA-Z+\-*/^().,\s]{1,100}$")


def _sympy_equal(a: str, b: str) -> bool:
    # parse_expr evaluates Python: only plain arithmetic text from the model gets that far.
    if not all(_SAFE_EXPR.match(_clean(x)) and "__" not in x for x in (a, b)):
        return False
    sympy = try_import("sympy")
    parser = try_import("sympy.parsing.sympy_parser")
    if sympy is None or parser is None:
        return False
    try:
        ea = parser.parse_expr(_clean(a).replace("^", "**"), evaluate=True)
        eb = parser.parse_expr(_clean(b).replace("^", "**"), evaluate=True)
        return bool(sympy.simplify(ea - eb) == 0)
    except Exception:  # anything sympy cannot parse is simply not equal
        return False


def grade_numeric(given: str | None, reference: str, *, use_sympy: bool = True) -> bool:
    """Is ``given`` the same number as ``reference``? Exact rational comparison; sympy as a fallback."""
    if given is None:
        return False
    a, b = parse_number(given), parse_number(reference)
    if a is not None and b is not None:
        return a == b
    if _clean(given) == _clean(reference):
        return True
    return use_sympy and _sympy_equal(given, reference)
