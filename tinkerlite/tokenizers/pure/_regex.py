"""Translate the Oniguruma pre-tokenizer regexes of tokenizer.json into stdlib ``re`` patterns.

HF ``tokenizers`` compiles ``Split`` patterns with Oniguruma; stdlib ``re`` is also a backtracking,
leftmost-first engine, so alternation, greedy quantifiers and ``(?!\\S)`` lookahead behave the same.
What differs is character classes: ``re`` has no ``\\p{...}``, no ``&&`` intersection, and its
``\\s``/``\\d``/``\\w`` are not Oniguruma's (``re``'s ``\\s`` includes U+001C..U+001F, which are not
White_Space). So every class and class escape is evaluated here to an explicit set of code-point
ranges (from :mod:`._unicode`) and written back as a plain ``[...]`` class. Everything else (groups,
``(?i:...)``, quantifiers, literals) is copied through.
"""

from __future__ import annotations

import functools
import re

from ...errors import ValidationError
from ._unicode import Ranges, complement, intersect, normalize, property_ranges

__all__ = ["compile_pattern", "translate"]

_SIMPLE_ESCAPES = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D, "a": 0x07, "e": 0x1B}
_ANCHORS = {"A": r"\A", "z": r"\Z", "Z": r"(?=\n?\Z)"}


class _Parser:
    def __init__(self, pattern: str, where: str) -> None:
        self.p = pattern
        self.i = 0
        self.where = where

    def fail(self, msg: str) -> ValidationError:
        return ValidationError(f"{msg} at offset {self.i} of regex {self.p!r}", field=self.where)

    # -- escapes ---------------------------------------------------------------------------------------
    def escape_set(self) -> Ranges | None:
        """Parse the escape after a backslash; a set for class escapes, else None (caller handles)."""
        c = self.p[self.i]
        if c in "pP":
            negate = c == "P"
            if self.i + 1 >= len(self.p) or self.p[self.i + 1] != "{":
                raise self.fail("expected '{' after \\p")
            end = self.p.find("}", self.i)
            if end < 0:
                raise self.fail("unterminated \\p{")
            name = self.p[self.i + 2 : end]
            if name.startswith("^"):
                negate, name = not negate, name[1:]
            ranges = property_ranges(name)
            if ranges is None:
                raise self.fail(f"unsupported Unicode property \\p{{{name}}}")
            self.i = end + 1
            return complement(ranges) if negate else list(ranges)
        # \w is left out on purpose: Oniguruma's is Alphabetic|M|Nd|Pc, and Alphabetic is not derivable
        # from unicodedata, so it would silently differ; it raises "unsupported escape" instead.
        if c in "sSdD":
            self.i += 1
            ranges = property_ranges("White_Space" if c in "sS" else "Nd") or []
            return complement(ranges) if c.isupper() else list(ranges)
        return None

    def escape_char(self) -> int:
        """A single escaped code point (``\\n``, ``\\x{263a}``, ``\\u00e9``, ``\\.``)."""
        c = self.p[self.i]
        if c in _SIMPLE_ESCAPES:
            self.i += 1
            return _SIMPLE_ESCAPES[c]
        if c == "x":
            if self.p.startswith("{", self.i + 1):
                end = self.p.find("}", self.i)
                digits, self.i = self.p[self.i + 2 : end], end + 1
            else:
                digits, self.i = self.p[self.i + 1 : self.i + 3], self.i + 3
            return self._hex(digits)
        if c == "u":
            digits, self.i = self.p[self.i + 1 : self.i + 5], self.i + 5
            return self._hex(digits)
        if c.isalnum():
            raise self.fail(f"unsupported escape \\{c}")
        self.i += 1
        return ord(c)

    def _hex(self, digits: str) -> int:
        try:
            return int(digits, 16)
        except ValueError:
            raise self.fail(f"bad hex escape {digits!r}") from None

    # -- classes ---------------------------------------------------------------------------------------
    def char_class(self) -> Ranges:
        """Parse ``[...]`` (``self.i`` just after ``[``): nesting, ranges, escapes, ``&&`` intersection.

        As in Oniguruma, ``&&`` intersects everything before it with everything after it, and a leading
        ``^`` negates the whole intersection.
        """
        negate = False
        if self.p.startswith("^", self.i):
            negate = True
            self.i += 1
        result: Ranges | None = None
        acc: Ranges = []
        first = True
        while True:
            if self.i >= len(self.p):
                raise self.fail("unterminated character class")
            c = self.p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if self.p.startswith("&&", self.i):
                self.i += 2
                cur = normalize(acc)
                result = cur if result is None else intersect(result, cur)
                acc = []
                continue
            if c == "[":
                self.i += 1
                acc.extend(self.char_class())
                continue
            lo = self._class_atom()
            if not isinstance(lo, int):
                acc.extend(lo)
                continue
            if self.p.startswith("-", self.i) and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.i += 1
                hi = self._class_atom()
                if not isinstance(hi, int) or hi < lo:
                    raise self.fail("bad range in character class")
                acc.append((lo, hi))
            else:
                acc.append((lo, lo))
        cur = normalize(acc)
        result = cur if result is None else intersect(result, cur)
        return complement(result) if negate else result

    def _class_atom(self) -> int | Ranges:
        """One code point, or the set of a class escape such as ``\\p{L}``."""
        c = self.p[self.i]
        if c != "\\":
            self.i += 1
            return ord(c)
        self.i += 1
        if self.i >= len(self.p):
            raise self.fail("trailing backslash")
        s = self.escape_set()
        return s if s is not None else self.escape_char()

    # -- top level -------------------------------------------------------------------------------------
    def translate(self) -> str:
        out: list[str] = []
        while self.i < len(self.p):
            c = self.p[self.i]
            if c == "\\":
                self.i += 1
                if self.i >= len(self.p):
                    raise self.fail("trailing backslash")
                s = self.escape_set()
                if s is not None:
                    out.append(_emit_class(s))
                    continue
                nxt = self.p[self.i]
                if nxt in _ANCHORS:
                    out.append(_ANCHORS[nxt])
                    self.i += 1
                    continue
                if nxt in "bBG":
                    raise self.fail(f"unsupported anchor \\{nxt}")
                out.append(_emit_char(self.escape_char()))
            elif c == "[":
                self.i += 1
                out.append(_emit_class(self.char_class()))
            elif c == "(":
                out.append(self._group_open())
            elif c in "^$":
                # Oniguruma's ^ and $ are always line anchors (Ruby syntax); re's only with MULTILINE.
                out.append(r"(?:^|(?<=\n))" if c == "^" else r"(?=\n|\Z)")
                self.i += 1
            else:
                out.append(c)
                self.i += 1
        return "".join(out)

    def _group_open(self) -> str:
        rest = self.p[self.i :]
        for prefix in ("(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>"):
            if rest.startswith(prefix):
                self.i += len(prefix)
                return prefix
        m = re.match(r"\(\?([imx]*)(?:-([imx]*))?([:)])", rest)
        if m:
            if "m" in (m.group(1) + (m.group(2) or "")) or "x" in m.group(1):
                raise self.fail("unsupported inline flag (Oniguruma's m and x differ from re's)")
            if m.group(3) == ")":
                raise self.fail("unsupported unscoped inline flag group")
            self.i += m.end()
            return m.group(0)
        if rest.startswith("(?"):
            raise self.fail("unsupported group syntax")
        self.i += 1
        return "(?:"  # captures are never needed for splitting, and would change findall()


def _emit_char(cp: int) -> str:
    if cp < 0x80 and (chr(cp).isalnum() or chr(cp) == "_"):
        return chr(cp)
    return f"\\x{cp:02x}" if cp < 0x100 else (f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")


def _emit_ranges(ranges: Ranges) -> str:
    """A plain ``re`` class for ``ranges``, negated when that is shorter; never empty."""
    if not ranges:
        return "(?!)"
    comp = complement(ranges)
    if not comp:
        return "[\\x00-\\U0010ffff]"
    neg = len(comp) < len(ranges)
    body = "".join(
        _emit_char(lo) if lo == hi else f"{_emit_char(lo)}-{_emit_char(hi)}" for lo, hi in (comp if neg else ranges)
    )
    return f"[^{body}]" if neg else f"[{body}]"


_ASTRAL_GUARD_MIN = 4


def _emit_class(ranges: Ranges) -> str:
    """``ranges`` as ``re`` syntax that stays fast on big Unicode classes.

    sre compiles a class's BMP part to a bitmap but keeps astral ranges as a list it scans linearly,
    so every BMP character that fails a ``\\p{L}``-sized class pays for hundreds of comparisons. Splitting
    into ``(?:[BMP]|(?=[astral])[ASTRAL])`` makes the common case one bitmap probe (7x faster splits).
    """
    bmp = [(lo, min(hi, 0xFFFF)) for lo, hi in ranges if lo <= 0xFFFF]
    astral = [(max(lo, 0x10000), hi) for lo, hi in ranges if hi >= 0x10000]
    if not bmp or len(astral) < _ASTRAL_GUARD_MIN or len(complement(astral)) <= _ASTRAL_GUARD_MIN:
        return _emit_ranges(ranges)
    return f"(?:{_emit_ranges(bmp)}|(?=[\\U00010000-\\U0010ffff]){_emit_ranges(astral)})"


@functools.lru_cache(maxsize=64)
def translate(pattern: str, where: str = "pattern") -> str:
    """The stdlib ``re`` spelling of an Oniguruma pattern; ``where`` names it in errors."""
    return _Parser(pattern, where).translate()


@functools.lru_cache(maxsize=64)
def compile_pattern(pattern: str, where: str = "pattern") -> re.Pattern[str]:
    translated = translate(pattern, where)
    try:
        return re.compile(translated)
    except re.error as e:
        raise ValidationError(f"regex {pattern!r} does not compile: {e}", field=where) from None
