r"""Unicode property tables (general categories, Han script, White_Space) as code-point ranges.

Stdlib ``re`` has no ``\\p{...}``, so the regex translator spells every property out as explicit ranges.
Scanning all 1.1M code points with :mod:`unicodedata` costs about half a second, so the result is cached
in the user cache directory, keyed by ``unicodedata.unidata_version`` (a different Python means a
different Unicode database and a fresh file). A cache that cannot be read or written is never fatal:
read-only images and Pyodide simply rebuild in memory.

Residual difference from HF ``tokenizers``: its Oniguruma tables are Unicode 16.0 (``tokenizers``
0.23.3), while Python's database is whatever the interpreter ships (3.10: 13.0; 3.11: 14.0; 3.12: 15.0;
3.13: 15.1; 3.14: 16.0). Code points assigned after Python's version are unassigned (``Cn``) here, so
text containing them can split differently (on 3.11: 9,272 ``\p{L}`` code points, mostly CJK Ext. H/I
and new scripts, 120 ``\p{N}``, 93 ``\p{M}``, 4,815 ``\p{Han}``). New emoji are unaffected: symbols and
unassigned code points fall in the same classes of every split pattern. Every code point assigned in
Python's database is classified exactly as Oniguruma does (tests/pure_tokenizer/test_regex.py probes
Oniguruma directly). ``Han`` has no stdlib source: it is derived from block layout plus categories
(:func:`_han_ranges`). ``White_Space`` is a fixed list (stable since Unicode 6.3).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import unicodedata
from pathlib import Path

from ...utils.files import atomic_write_bytes

__all__ = ["Ranges", "cache_path", "load_tables", "property_ranges"]

Ranges = list[tuple[int, int]]
"""Sorted, non-overlapping, non-adjacent inclusive ``(lo, hi)`` code-point ranges."""

MAX_CP = 0x10FFFF
_SCHEMA = 1

# PropList.txt White_Space; stable since Unicode 6.3 (U+180E left it), not derivable from unicodedata.
_WHITE_SPACE: Ranges = [
    (0x09, 0x0D),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
]

# Scripts.txt Han code points that are not CJK ideographs (marks, numerals, radicals handled separately).
_HAN_SINGLES: Ranges = [
    (0x3005, 0x3005),
    (0x3007, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303B),
    (0x16FE2, 0x16FE3),
    (0x16FF0, 0x16FF1),
]
# Blocks whose assigned letters (Lo) are all Script=Han ideographs.
_HAN_IDEOGRAPH_BLOCKS: Ranges = [
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
]
_HAN_RADICALS = (0x2E80, 0x2FDF)  # CJK Radicals Supplement + Kangxi Radicals: assigned So are Han

_lock = threading.Lock()
_tables: dict[str, Ranges] | None = None


def normalize(ranges: Ranges) -> Ranges:
    """Sort and merge overlapping or adjacent ranges."""
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def complement(ranges: Ranges) -> Ranges:
    out: Ranges = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CP:
        out.append((nxt, MAX_CP))
    return out


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out: Ranges = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _scan_categories() -> dict[str, Ranges]:
    category = unicodedata.category
    runs: dict[str, Ranges] = {}
    prev = ""
    start = 0
    for cp in range(MAX_CP + 1):
        cat = category(chr(cp))
        if cat != prev:
            if prev:
                runs.setdefault(prev, []).append((start, cp - 1))
            prev, start = cat, cp
    runs.setdefault(prev, []).append((start, MAX_CP))
    return runs


def _han_ranges(cats: dict[str, Ranges]) -> Ranges:
    lo_ideographs = intersect(cats.get("Lo", []), normalize(_HAN_IDEOGRAPH_BLOCKS))
    radicals = intersect(cats.get("So", []), [_HAN_RADICALS])
    return normalize(lo_ideographs + radicals + _HAN_SINGLES)


def _build() -> dict[str, Ranges]:
    cats = _scan_categories()
    tables: dict[str, Ranges] = dict(cats)
    for major in "LMNPSZC":
        tables[major] = normalize([r for k, v in cats.items() if k[0] == major for r in v])
    tables["Han"] = _han_ranges(cats)
    tables["White_Space"] = list(_WHITE_SPACE)
    return tables


def cache_dir() -> Path:
    """``$TINKERLITE_CACHE_DIR``, else the platform's user cache directory + ``tinkerlite``."""
    env = os.environ.get("TINKERLITE_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinkerlite"


def cache_path() -> Path:
    return cache_dir() / f"unicode-ranges-{unicodedata.unidata_version}-v{_SCHEMA}.json"


def _read_cache(path: Path) -> dict[str, Ranges] | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("unidata_version") != unicodedata.unidata_version or raw.get("schema") != _SCHEMA:
            return None
        # Stored flat ([lo, hi, lo, hi, ...]) to keep the file small.
        return {k: list(zip(v[0::2], v[1::2], strict=True)) for k, v in raw["tables"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_cache(path: Path, tables: dict[str, Ranges]) -> None:
    payload = {
        "unidata_version": unicodedata.unidata_version,
        "schema": _SCHEMA,
        "tables": {k: [x for r in v for x in r] for k, v in tables.items()},
    }
    try:  # atomic: concurrent readers see the old file or the new one
        atomic_write_bytes(path, json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    except OSError:
        pass


def load_tables(*, use_cache: bool = True) -> dict[str, Ranges]:
    """All property tables, from the in-process memo, the cache file, or a fresh scan."""
    global _tables
    with _lock:
        if _tables is not None and use_cache:
            return _tables
        path = cache_path()
        tables = _read_cache(path) if use_cache else None
        if tables is None:
            tables = _build()
            if use_cache:
                _write_cache(path, tables)
        _tables = tables
        return tables


def clear_memo() -> None:
    """Forget the in-process tables (benchmarks and tests of the cold path)."""
    global _tables
    with _lock:
        _tables = None


def property_ranges(name: str) -> Ranges | None:
    """Ranges of a ``\\p{name}`` property as Oniguruma spells it; None if not supported."""
    tables = load_tables()
    key = _ALIASES.get(name.replace(" ", "").replace("_", "").replace("-", "").lower())
    if key is None:
        return None
    return tables.get(key, [])


_LONG_NAMES = {
    "L": "Letter",
    "Lu": "UppercaseLetter",
    "Ll": "LowercaseLetter",
    "Lt": "TitlecaseLetter",
    "Lm": "ModifierLetter",
    "Lo": "OtherLetter",
    "M": "Mark",
    "Mn": "NonspacingMark",
    "Mc": "SpacingMark",
    "Me": "EnclosingMark",
    "N": "Number",
    "Nd": "DecimalNumber",
    "Nl": "LetterNumber",
    "No": "OtherNumber",
    "P": "Punctuation",
    "Pc": "ConnectorPunctuation",
    "Pd": "DashPunctuation",
    "Ps": "OpenPunctuation",
    "Pe": "ClosePunctuation",
    "Pi": "InitialPunctuation",
    "Pf": "FinalPunctuation",
    "Po": "OtherPunctuation",
    "S": "Symbol",
    "Sm": "MathSymbol",
    "Sc": "CurrencySymbol",
    "Sk": "ModifierSymbol",
    "So": "OtherSymbol",
    "Z": "Separator",
    "Zs": "SpaceSeparator",
    "Zl": "LineSeparator",
    "Zp": "ParagraphSeparator",
    "C": "Other",
    "Cc": "Control",
    "Cf": "Format",
    "Cs": "Surrogate",
    "Co": "PrivateUse",
    "Cn": "Unassigned",
}
_ALIASES: dict[str, str] = {}
for _short, _long in _LONG_NAMES.items():
    _ALIASES[_short.lower()] = _short
    _ALIASES[_long.lower()] = _short
_ALIASES.update({"han": "Han", "hani": "Han", "whitespace": "White_Space", "space": "White_Space"})
