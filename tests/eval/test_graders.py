"""Benchmark graders against the cookbook 0.6.1's own ``eval/benchmarks/_common.py`` (executed at test
time with its ``datasets`` / renderer imports stubbed: they play no part in grading), on a corpus of
responses that exercises every extraction rule."""

from __future__ import annotations

import itertools
import sys
import types
from typing import Any

import pytest

from tests.official_exec import load_official
from tinkerlite.eval.benchmarks import _common as ours
from tinkerlite.eval.benchmarks._common import LocalDataset, limit_dataset

RESPONSES = [
    "The answer is 42.",
    "So we get \\boxed{1,234} dollars",
    "\\boxed{\\text{five} 5}",
    "\\boxed{\\frac{1}{2}}",
    "\\boxed{-3.50}",
    "\\boxed{x^{2}+1}",
    "\\boxed{unclosed",
    "#### 72",
    "####  $1,000.00 total",
    "Answer: $17.",
    "answer is -4",
    "First 3, then **15** apples",
    "**$2,500.75**",
    "I computed 12 then 7 then 19",
    "no numbers at all",
    "",
    "The answer is (C).",
    "answer: b",
    "Between A and D I pick D",
    "\\boxed{ b }",
    "\\boxed{AB} ... so B",
    "Option J looks right. J",
    "```python\nprint(1)\n```",
    "text\n```\nx = 2\n```\nmore\n```js\nlet y\n```",
    "```bash\nls -la\n```",
    "```\n{\"a\": 1}\n```",
    "```\necho hi\n```",
    "All done: TASK_COMPLETE",
    "task complete!",
    "1.5 and 2. and 3..",
    "-0.0001 vs 0",
    "x = 3,\n#### 3,500",
]
EXPECTED = ["42", "1234", "5", "0.5", "-3.5", "7", "19", "3500", "3", "A"]


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    stubs = {
        "datasets": types.ModuleType("datasets"),
        "tinker_cookbook": types.ModuleType("tinker_cookbook"),
        "tinker_cookbook.renderers": types.ModuleType("tinker_cookbook.renderers"),
        "tinker_cookbook.renderers.base": types.ModuleType("tinker_cookbook.renderers.base"),
    }
    stubs["datasets"].Dataset = list  # type: ignore[attr-defined]
    stubs["tinker_cookbook.renderers.base"].Message = dict  # type: ignore[attr-defined]
    return load_official("eval/benchmarks/_common.py", "official_benchmark_common", stubs)


@pytest.mark.parametrize(
    "fn", ["extract_boxed", "extract_number", "extract_gsm8k_answer", "extract_python_code", "extract_command",
           "is_task_complete"]
)
def test_text_extractors_match(official: Any, fn: str) -> None:
    for text in RESPONSES:
        assert getattr(ours, fn)(text) == getattr(official, fn)(text), (fn, text)


def test_gsm8k_check_matches(official: Any) -> None:
    for text, expected in itertools.product(RESPONSES, EXPECTED):
        assert ours.check_gsm8k(text, expected) == official.check_gsm8k(text, expected), (text, expected)


def test_mcq_extraction_matches(official: Any) -> None:
    long_tail = "x" * 400 + " B"
    for text in [*RESPONSES, long_tail, "A" + "y" * 400]:
        for letters in ("ABCD", "ABCDEFGHIJ"):
            assert ours.extract_mcq_answer(text, letters) == official.extract_mcq_answer(text, letters), text


def test_ids_choices_messages_kwargs_match(official: Any) -> None:
    for seed in ["", "What is 2+2?", "ünïcode ✓"]:
        assert ours.make_example_id("gsm8k", seed) == official.make_example_id("gsm8k", seed)
    assert ours.format_mcq_choices(["x", "y", "z"]) == official.format_mcq_choices(["x", "y", "z"])
    assert ours.build_messages("q", "sys") == official.build_messages("q", "sys")
    assert ours.build_messages("q") == official.build_messages("q")
    raw = [None, '{"a": 1}', "not json", {"b": 2}, 7]
    assert ours.parse_kwargs(raw, list(range(7))) == official.parse_kwargs(raw, list(range(7)))
    assert ours.parse_kwargs(raw) == official.parse_kwargs(raw)


def test_local_dataset_limits_like_a_dataset() -> None:
    ds = LocalDataset({"i": i} for i in range(10))
    assert [r["i"] for r in limit_dataset(ds, 3)] == [0, 1, 2]
    shuffled = [r["i"] for r in limit_dataset(ds, 4, shuffle_seed=42)]
    assert shuffled == [r["i"] for r in limit_dataset(ds, 4, shuffle_seed=42)] and len(shuffled) == 4
    assert limit_dataset(ds, None) is ds and len(limit_dataset(ds, 50)) == 10


def test_missing_datasets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINKERLITE_BENCHMARK_DATA", raising=False)
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"tinkerlite\[datasets\]"):
        ours.load_benchmark_dataset("openai/gsm8k", name="main")


def test_aime_grading_rules() -> None:
    from tinkerlite.eval.benchmarks.aime import AIMEMessageEnv

    env = AIMEMessageEnv("p", 33)
    assert env._grade("\\boxed{033}") == (True, "33")
    assert env._grade("so 33.0") == (True, "33")
    assert env._grade("\\boxed{1000}") == (False, "1000")
    assert env._grade("nothing") == (False, "")
