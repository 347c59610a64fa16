"""The Oniguruma-to-``re`` translator: Unicode classes, intersection, ``\\s``, and Oniguruma itself as oracle."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import pytest

from tinkerlite._optional import try_import
from tinkerlite.errors import ValidationError
from tinkerlite.tokenizers.pure._regex import compile_pattern, translate
from tinkerlite.tokenizers.pure._unicode import property_ranges
from tinkerlite.tokenizers.pure.tokenizer import _bytelevel_step, _ByteLevelStep, _Split, _split

# Every code point that can be assigned up to Unicode 16 (planes 4-13 are empty, planes 15-16 private use
# in every version: a slice of each is kept), surrogates excluded as Rust strings cannot hold them.
_SPANS = [(0, 0xD7FF), (0xE000, 0x323AF), (0xE0000, 0xE01EF), (0xF0000, 0xF00FF), (0x10FF00, 0x10FFFF)]
ALL = "".join(chr(c) for lo, hi in _SPANS for c in range(lo, hi + 1))


def _members(pattern: str) -> set[str]:
    """Code points a one-character pattern matches (findall over all of them runs at C speed)."""
    found: list[str] = compile_pattern(pattern).findall(ALL)
    assert all(len(c) == 1 for c in found)
    return set(found)


@functools.cache
def _by_category() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in ALL:
        out.setdefault(unicodedata.category(c), set()).add(c)
    return out


def _category(prefixes: tuple[str, ...]) -> set[str]:
    return {c for cat, chars in _by_category().items() if cat.startswith(prefixes) for c in chars}


@pytest.mark.parametrize("cat", ["L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "N", "P", "S"])
def test_property_is_the_general_category(cat: str) -> None:
    got = _members(rf"\p{{{cat}}}")
    assert got == _category((cat,))


def test_whitespace_is_unicode_white_space_not_str_isspace() -> None:
    ws = _members(r"\s")
    assert "\x85" in ws and "\u3000" in ws and "\u2028" in ws and " " in ws and "\t" in ws
    assert not ws & set("\x1c\x1d\x1e\x1f")  # str.isspace() says yes, White_Space says no
    assert "\u200b" not in ws and "\u180e" not in ws
    assert len(ws) == 25
    non_ws = _members(r"\S")
    assert not ws & non_ws and len(ws) + len(non_ws) == len(ALL)
    assert {chr(lo) for lo, _ in property_ranges("White_Space") or []} <= ws


def test_intersection_and_han() -> None:
    han = _members(r"\p{Han}")
    for c in "中文〇々〡〻⺀⼀豈丽𠀀𰀀\U00016fe2":
        assert c in han, hex(ord(c))
    for c in "aあア한〆。１":
        assert c not in han
    inter = _members(r"[\p{Lo}\p{M}&&[^\p{Han}]]")
    assert inter == _category(("Lo", "M")) - han
    assert _members(r"[a-z&&[^aeiou]]") == set("bcdfghjklmnpqrstvwxyz")
    assert _members(r"[^\r\n\p{L}\p{N}]") == set(ALL) - _category(("L", "N")) - {"\r", "\n"}


def test_case_insensitive_group_and_lookahead() -> None:
    rx = compile_pattern(r"(?i:'s|'t|'re)|\s+(?!\S)|\s+|[^\s']+")
    assert rx.findall("I'S x'RE") == ["I", "'S", " ", "x", "'RE"]
    assert rx.findall("a   b") == ["a", "  ", " ", "b"]
    assert rx.fullmatch("'\u017f")  # U+017F folds to s in Oniguruma too
    assert "(" not in translate("(a)(?:b)").replace("(?:", "")


@pytest.mark.parametrize(
    "bad", [r"\p{Klingon}", r"[a", r"\p{L", r"\b", r"(?m:a)", r"(?<name>a)", "\\", r"\1", r"[z-a]", r"\w+", r"\h"]
)
def test_unsupported_syntax_is_a_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError):
        compile_pattern(bad, "pre_tokenizer.pattern.Regex")


def test_escapes() -> None:
    assert compile_pattern(r"\x{263a}\u00e9\x41\.\t").fullmatch("☺éA.\t")
    assert compile_pattern(r"[\x{1F600}-\x{1F64F}]+").fullmatch("😀🙏")
    assert property_ranges("Letter") == property_ranges("L")


def _hf_tokenizers() -> Any:
    tokenizers = try_import("tokenizers")
    if tokenizers is None:
        pytest.skip("HF tokenizers (Oniguruma) not installed")
    return tokenizers


@pytest.mark.parametrize(
    "pattern",
    [
        r"\p{L}", r"\p{Lu}", r"\p{Ll}", r"\p{Lt}", r"\p{Lm}", r"\p{Lo}", r"\p{M}", r"\p{N}", r"\p{P}", r"\p{S}",
        r"\p{Han}", r"\s", r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]",
    ],
)
def test_classes_agree_with_oniguruma(pattern: str) -> None:
    """Every code point assigned in Python's Unicode database is classified as Oniguruma does.

    The only allowed differences are code points that Python's (older) Unicode database leaves
    unassigned but ``tokenizers``' newer Oniguruma tables assign (the documented residual difference).
    """
    tokenizers = _hf_tokenizers()
    # "(?:...)+" so that agreeing code points form one match: Oniguruma is slow on a million tiny ones.
    split = tokenizers.pre_tokenizers.Split(tokenizers.Regex(f"(?:{pattern})+"), behavior="removed")
    # Only code points assigned in Python's database matter (the rest may differ); private use is the
    # same in every version. Keeping the probe short keeps Oniguruma's side fast.
    assigned = {c for cat, chars in _by_category().items() if cat not in ("Cn", "Co") for c in chars}
    ours = _members(pattern) & assigned
    # Our members first, then the rest: where Oniguruma agrees, it returns a single piece (the rest),
    # so only disagreements cost Python objects.
    probe = "".join(sorted(ours)) + "".join(sorted(assigned - ours))
    unmatched = {c for piece, _ in split.pre_tokenize_str(probe) for c in piece}
    diff = (ours & unmatched) | (assigned - ours - unmatched)
    assert not diff, sorted(hex(ord(c)) for c in diff)[:20]


SPLIT_TEXTS = ["Hello, world!  It's 2026...\n\n  ok", "a-b--c", "--", "", "x", " leading and trailing "]


@pytest.mark.parametrize("behavior", ["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"])
@pytest.mark.parametrize("invert", [False, True])
def test_split_behaviors_agree_with_hf(behavior: str, invert: bool) -> None:
    tokenizers = _hf_tokenizers()
    for pattern in [r"\s+", r"-", r"\p{P}", r"\p{L}+"]:
        hf = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern), behavior=behavior.lower()
                                             .replace("mergedwithprevious", "merged_with_previous")
                                             .replace("mergedwithnext", "merged_with_next"), invert=invert)
        step = _Split(compile_pattern(pattern), behavior, invert)
        for text in SPLIT_TEXTS:
            assert _split(text, step) == [p for p, _ in hf.pre_tokenize_str(text)], (pattern, text)


@pytest.mark.parametrize("add_prefix_space", [False, True])
@pytest.mark.parametrize("use_regex", [False, True])
def test_bytelevel_pretokenizer_agrees_with_hf(add_prefix_space: bool, use_regex: bool) -> None:
    from tinkerlite.tokenizers.pure.tokenizer import GPT2_PATTERN

    tokenizers = _hf_tokenizers()
    hf = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space, use_regex=use_regex)
    step = _ByteLevelStep(add_prefix_space, compile_pattern(GPT2_PATTERN) if use_regex else None)
    for text in [*SPLIT_TEXTS[:-3], "héllo 中文 😀", " x", "I'M  here\t\n"]:
        assert _bytelevel_step(text, step) == [p for p, _ in hf.pre_tokenize_str(text)], text


@pytest.mark.parametrize("pattern", [r"^\s*[a-z]", r"^ab|b$", r"\Aa", r"a\z", r"a\Z", r"x$\n", r"(?i:AB)+"])
def test_anchors_agree_with_hf(pattern: str) -> None:
    """Oniguruma's ``^``/``$`` are line anchors; ``\\z``/``\\Z`` end of text / before a final newline."""
    tokenizers = _hf_tokenizers()
    hf = tokenizers.pre_tokenizers.Split(tokenizers.Regex(pattern), behavior="isolated")
    step = _Split(compile_pattern(pattern), "Isolated", False)
    for text in ["ab\nab\n", "a\nb", "  ab\n  b", "x\nx", "a\n", "a", "aBAb\nAB"]:
        assert _split(text, step) == [p for p, _ in hf.pre_tokenize_str(text)], text
