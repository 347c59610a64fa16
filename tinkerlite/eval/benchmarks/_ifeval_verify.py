"""IFEval instruction checks (the cookbook's ``eval.benchmarks._ifeval_verify``): the 48 instruction types
of IFEval / Nemotron-Cascade IF-RL, with the cookbook's exact rules — including its leniencies (unknown
ids, ``constrained_response`` and ``counting_composition`` pass; ``response_language`` passes without
``langdetect``) and its failure rule (a check that raises, e.g. on a malformed kwarg, fails)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._types import BenchmarkResult, Metrics

__all__ = ["verify_all_instructions", "verify_instruction"]

logger = logging.getLogger(__name__)

Kw = dict[str, Any]


def _relation_check(count: int, relation: str, target: int) -> bool:
    checks = {"at least": count >= target, "at most": count <= target, "exactly": count == target}
    return checks.get(relation, True)


def _count_words(text: str) -> int:
    return len(text.split())


def _count_sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()])


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _get_words(text: str) -> list[str]:
    return re.findall(r"\b\w+\b", text.lower())


def _is_palindrome(word: str) -> bool:
    w = word.lower()
    return len(w) > 1 and w == w[::-1]


def _no_adjacent_repeat(words: list[str]) -> bool:
    return all(words[i] != words[i + 1] for i in range(len(words) - 1))


def _start_end(r: str, kw: Kw) -> bool:
    start, end = kw.get("start_word", "").lower(), kw.get("end_word", "").lower()
    words = _get_words(r)
    return bool(words) and bool(words[0] == start if start else True) and bool(words[-1] == end if end else True)


def _keyword_position(r: str, kw: Kw) -> bool:
    keyword, position = kw.get("keyword", "").lower(), kw.get("position", 0)
    words = _get_words(r)
    return bool(1 <= position <= len(words) and words[position - 1] == keyword)


def _nth_paragraph_first_word(r: str, kw: Kw) -> bool:
    nth, first = kw.get("nth_paragraph", 1), kw.get("first_word", "").lower()
    paragraphs = _paragraphs(r)
    if nth > len(paragraphs):
        return False
    words = _get_words(paragraphs[nth - 1])
    return bool(words) and words[0] == first


def _json_format(r: str, kw: Kw) -> bool:
    try:
        json.loads(r.strip())
        return True
    except json.JSONDecodeError:
        match = re.search(r"\{[^{}]*\}", r, re.DOTALL)
        if match:
            try:
                json.loads(match.group())
                return True
            except json.JSONDecodeError:
                pass
        return False


def _first_word(r: str, kw: Kw) -> bool:
    words = _get_words(r)
    return bool(words) and words[0] == kw.get("first_word", "").lower()


def _last_word(r: str, kw: Kw) -> bool:
    words = _get_words(r)
    return bool(words) and words[-1] == kw.get("last_word", "").lower()


def _quotation(r: str, kw: Kw) -> bool:
    s = r.strip()
    return (s.startswith('"') and s.endswith('"')) or (s.startswith("'") and s.endswith("'"))


def _n_or(kw: Kw, fallback: str, default: int) -> Any:
    """``kw["N"]``, else ``kw[fallback]``, else ``default`` (the cookbook's nested ``get``)."""
    return kw.get("N", kw.get(fallback, default))


def _letter_counting(r: str, kw: Kw) -> bool:
    letter = kw.get("letter", "").lower()
    n = _n_or(kw, "num_letters", 0)
    return _relation_check(r.lower().count(letter), kw.get("relation", "at least"), n)


_LANGS = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "chinese": "zh-cn", "japanese": "ja",
          "korean": "ko"}  # fmt: skip


def _response_language(r: str, kw: Kw) -> bool:
    language = kw.get("language", "").lower()
    try:
        from langdetect import detect  # type: ignore[import-not-found]

        detected = str(detect(r)).lower()
        target = _LANGS.get(language, language)
        return detected == target or detected.startswith(target.split("-")[0])
    except Exception:
        return True  # cannot verify without langdetect: lenient, as the cookbook


_CHECKS: dict[str, Callable[[str, Kw], bool]] = {
    "keywords:existence": lambda r, kw: all(k.lower() in r.lower() for k in kw.get("keywords", [])),
    "keywords:forbidden_words": lambda r, kw: all(w.lower() not in r.lower() for w in kw.get("forbidden_words", [])),
    "keywords:frequency": lambda r, kw: _relation_check(
        r.lower().count(kw.get("keyword", "").lower()), kw.get("relation", "at least"), kw.get("frequency", 0)
    ),
    "keywords:letter_frequency": lambda r, kw: _relation_check(
        r.lower().count(kw.get("letter", "").lower()), kw.get("let_relation", "at least"), kw.get("let_frequency", 0)
    ),
    "keywords:word_once": lambda r, kw: r.lower().count(kw.get("keyword", "").lower()) == 1,
    "keywords:word_count_different_numbers": lambda r, kw: len(set(re.findall(r"\b\d+\b", r))) >= kw.get("N", 0),
    "keywords:start_end": _start_end,
    "keywords:keyword_specific_position": _keyword_position,
    "keywords:palindrome": lambda r, kw: any(_is_palindrome(w) for w in _get_words(r)),
    "keywords:no_adjacent_consecutive": lambda r, kw: _no_adjacent_repeat(_get_words(r)),
    "punctuation:no_comma": lambda r, kw: "," not in r,
    "punctuation:punctuation_exclamation": lambda r, kw: "!" not in r,
    "punctuation:punctuation_dot": lambda r, kw: "." not in r,
    "length_constraints:number_words": lambda r, kw: _relation_check(
        _count_words(r), kw.get("relation", "at least"), kw.get("num_words", 0)
    ),
    "length_constraints:number_sentences": lambda r, kw: _relation_check(
        _count_sentences(r), kw.get("relation", "at least"), kw.get("num_sentences", 0)
    ),
    "length_constraints:number_paragraphs": lambda r, kw: _relation_check(
        len(_paragraphs(r)), kw.get("relation", "at least"), kw.get("num_paragraphs", 0)
    ),
    "length_constraints:nth_paragraph_first_word": _nth_paragraph_first_word,
    "detectable_format:title": lambda r, kw: r.strip().startswith("<<") or r.strip().startswith("#"),
    "detectable_format:number_bullet_lists": lambda r, kw: len(re.findall(r"^\s*[\*\-\•]\s", r, re.MULTILINE))
    >= kw.get("num_bullets", 1),
    "detectable_format:number_highlighted_sections": lambda r, kw: len(re.findall(r"\*[^*]+\*", r))
    >= kw.get("num_highlights", 1),
    "detectable_format:multiple_sections": lambda r, kw: len(re.findall(r"^#{1,6}\s", r, re.MULTILINE))
    >= kw.get("num_sections", 1),
    "detectable_format:json_format": _json_format,
    "detectable_format:constrained_response": lambda r, kw: True,
    "detectable_format:bigram_wrapping": lambda r, kw: "<<" in r and ">>" in r,
    "detectable_format:sentence_hyphens": lambda r, kw: any(
        ln.strip().startswith("-") for ln in r.split("\n") if ln.strip()
    ),
    "detectable_format:square_brackets": lambda r, kw: "[" in r and "]" in r,
    "detectable_content:postscript": lambda r, kw: any(ps in r for ps in ("P.S.", "P.S", "PS:", "p.s.")),
    "detectable_content:number_placeholders": lambda r, kw: len(re.findall(r"\[.*?\]", r))
    >= kw.get("num_placeholders", 1),
    "change_case:english_capital": lambda r, kw: all(w[0].isupper() for w in r.split() if w and w[0].isalpha()),
    "change_case:english_lowercase": lambda r, kw: all(c.islower() for c in r if c.isalpha()),
    "change_case:capital_word_frequency": lambda r, kw: _relation_check(
        len([w for w in r.split() if w and w[0].isupper()]),
        kw.get("capital_relation", "at least"),
        kw.get("capital_frequency", 0),
    ),
    "first_word:first_word_answer": _first_word,
    "first_word:first_word_sent": _first_word,
    "last_word:last_word_answer": _last_word,
    "last_word:last_word_sent": _last_word,
    "startend:end_checker": lambda r, kw: r.strip().lower().endswith(kw.get("end_phrase", "").lower()),
    "startend:quotation": _quotation,
    "count:lowercase_counting": lambda r, kw: len([w for w in r.split() if w.islower()]) >= kw.get("N", 0),
    "count:count_increment_word": lambda r, kw: r.lower().count(kw.get("keyword", "").lower()) >= kw.get("N", 1),
    "count:count_unique": lambda r, kw: len(set(_get_words(r))) >= kw.get("N", 0),
    "count:counting_composition": lambda r, kw: True,
    "letters:letter_counting": _letter_counting,
    "letters:letter_counting2": _letter_counting,
    "paragraphs:paragraphs": lambda r, kw: len(_paragraphs(r)) >= kw.get("num_paragraphs", 1),
    "paragraphs:paragraphs2": lambda r, kw: len(_paragraphs(r)) >= kw.get("num_paragraphs", 1),
    "language:response_language": _response_language,
    "copy:repeat_phrase": lambda r, kw: r.count(kw.get("phrase", "")) >= _n_or(kw, "num_repeats", 1),
    "combination:two_responses": lambda r, kw: any(
        s in r for s in ("***", "---", "===", "Response 1", "Response 2")
    ),
}


def verify_instruction(instruction_id: str, response: str, kwargs: dict[str, Any]) -> bool:
    """Whether ``response`` satisfies one instruction (unknown ids pass; a check that raises fails)."""
    iid = instruction_id.strip()
    check = _CHECKS.get(iid)
    if check is None:
        logger.debug(f"Unhandled instruction type: {instruction_id}")
        return True
    try:
        return bool(check(response, kwargs))
    except Exception as e:
        logger.warning(f"Error verifying instruction {instruction_id}: {e}")
        return False


def verify_all_instructions(
    response: str, instruction_id_list: list[str], kwargs_list: list[dict[str, Any]]
) -> tuple[float, dict[str, bool]]:
    """(fraction satisfied, per-instruction results); no instructions -> (1.0, {})."""
    if not instruction_id_list:
        return 1.0, {}
    pairs = zip(instruction_id_list, kwargs_list, strict=False)  # the cookbook zips without strict
    results = {iid: verify_instruction(iid, response, kw) for iid, kw in pairs}
    return sum(results.values()) / len(results), results


def strict_loose_result(name: str, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
    """IFEval's and IFBench's aggregate: strict accuracy (every instruction followed) and loose (mean fraction)."""
    from ._types import BenchmarkResult

    strict_correct = sum(1 for r in rewards if r > 0)
    strict = strict_correct / len(rewards) if rewards else 0.0
    loose = sum(float(m.get("fraction", 0.0)) for m in metrics_list) / len(metrics_list) if metrics_list else 0.0
    return BenchmarkResult(
        name=name,
        score=strict,
        num_examples=len(rewards),
        num_correct=strict_correct,
        metrics={f"{name}/strict_accuracy": strict, f"{name}/loose_accuracy": loose},
    )
