"""IFEval checks against the cookbook 0.6.1's own ``_ifeval_verify.py`` (self-contained, executed at test
time): every instruction id it handles, on responses and kwargs chosen to hit both outcomes and the
malformed-kwarg path, gives the same verdict; plus the ifeval env and aggregate."""

from __future__ import annotations

import asyncio
import itertools
import re
import types
from typing import Any

import pytest

from tests.official_env import official_source
from tinkerlite.eval.benchmarks import _ifeval_verify as ours
from tinkerlite.eval.benchmarks.ifeval import IFEvalBenchmarkBuilder, IFEvalMessageEnv


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    path = official_source("cookbook") / "tinker_cookbook" / "eval" / "benchmarks" / "_ifeval_verify.py"
    mod = types.ModuleType("official_ifeval_verify")
    exec(compile(path.read_text(), str(path), "exec"), mod.__dict__)
    return mod


def _ids(official: Any) -> list[str]:
    src = (official_source("cookbook") / "tinker_cookbook" / "eval" / "benchmarks" / "_ifeval_verify.py").read_text()
    return sorted(set(re.findall(r'"([a-z_]+:[a-z_0-9]+)"', src)))


RESPONSES = [
    "",
    "Hello world. This is fine! Is it? Yes.",
    "# Title\n\n* one\n* two\n- three\n\nP.S. bye [name] [place]",
    "<<My Title>>\nlowercase words only here, and a comma",
    'He said "hi"',
    '"quoted whole"',
    '{"a": 1}',
    "text {\"b\": 2} text",
    "ALL CAPS Words Here",
    "level radar noon 12 34 34 the the",
    "Response 1 *** Response 2",
    "first para\n\nsecond para starts here\n\nthird",
    "banana banana Banana is the end phrase",
    "- hyphen line\n## Section\n### Sub",
]
KWARGS: list[dict[str, Any]] = [
    {},
    {"keywords": ["hello", "world"], "forbidden_words": ["comma"], "keyword": "the", "relation": "at least",
     "frequency": 2, "letter": "a", "let_relation": "at most", "let_frequency": 3, "N": 2, "start_word": "hello",
     "end_word": "yes", "position": 2, "num_words": 5, "num_sentences": 3, "num_paragraphs": 2, "nth_paragraph": 2,
     "first_word": "second", "num_bullets": 2, "num_highlights": 1, "num_sections": 2, "num_placeholders": 2,
     "capital_frequency": 2, "capital_relation": "exactly", "last_word": "phrase", "end_phrase": "end phrase",
     "phrase": "banana", "num_repeats": 2, "language": "english", "num_letters": 4},
    {"keywords": ["x"], "relation": "exactly", "frequency": 0, "N": 0, "position": 0, "nth_paragraph": 5,
     "relation_unknown": 1, "let_relation": "weird", "first_word": "", "last_word": "", "end_phrase": ""},
    {"keyword": None, "keywords": None, "start_word": None, "position": "2", "N": "3", "num_words": None},
]


def test_every_check_matches_the_cookbook(official: Any) -> None:
    ids = _ids(official)
    assert len(ids) >= 48
    for iid, response, kw in itertools.product([*ids, "unknown:thing"], RESPONSES, KWARGS):
        assert ours.verify_instruction(iid, response, kw) == official.verify_instruction(iid, response, kw), (
            iid, response, kw)


def test_all_instructions_fraction_matches(official: Any) -> None:
    ids = ["keywords:existence", "punctuation:no_comma", "startend:quotation"]
    for response in RESPONSES:
        kws = [{"keywords": ["hello"]}, {}, {}]
        assert ours.verify_all_instructions(response, ids, kws) == official.verify_all_instructions(response, ids, kws)
    assert ours.verify_all_instructions("x", [], []) == official.verify_all_instructions("x", [], []) == (1.0, {})


def test_ifeval_env_and_aggregate() -> None:
    env = IFEvalMessageEnv([{"role": "user", "content": "Say hi without commas"}],
                           ["keywords:existence", "punctuation:no_comma"], [{"keywords": ["hi"]}, {}], "ifeval_7")
    ok = asyncio.run(env.step({"role": "assistant", "content": "hi there"}))
    half = asyncio.run(env.step({"role": "assistant", "content": "hi, there"}))
    assert (ok.reward, ok.metrics["fraction"]) == (1.0, 1.0) and (half.reward, half.metrics["fraction"]) == (0.0, 0.5)
    assert list(ok.logs) == ["example_id", "input", "fraction", "output"]
    agg = IFEvalBenchmarkBuilder().aggregate([ok.reward, half.reward], [ok.metrics, half.metrics])
    assert agg.score == 0.5 and agg.metrics == {"ifeval/strict_accuracy": 0.5, "ifeval/loose_accuracy": 0.75}
