"""Each bundled benchmark module from local JSONL rows (no ``datasets``): which rows become envs, the
prompt, the expected answer, the grading of right and wrong responses, the logged fields, per the
cookbook 0.6.1 modules' rules."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.eval.benchmarks import REGISTRY, BenchmarkConfig
from tinkerlite.renderers import get_renderer
from tinkerlite.tokenizer_utils import get_tokenizer

ROWS: dict[str, list[dict[str, Any]]] = {
    "TIGER-Lab__MMLU-Pro__test": [
        {"question": "Q1?", "options": ["a", "b", "c"], "answer_index": 2, "question_id": 17},
        {"question": "Q2?", "options": [], "answer": "b"},
    ],
    "Idavidrein__gpqa__gpqa_diamond__train": [
        {"Question": "G1?", "Correct Answer": "right", "Incorrect Answer 1": "w1", "Incorrect Answer 2": "w2"},
        {"Question": "G2?", "Answer": "nomatch", "Choice A": "x", "Choice B": "y"},
    ],
    "m-a-p__SuperGPQA__train": [
        {"question": "S1?", "options": list("abcde"), "answer_letter": " e ", "discipline": "Physics", "uuid": "u1"},
        {"question": "", "options": ["a"], "answer_letter": "A"},
    ],
    "edinburgh-dawg__mmlu-redux__anatomy__test": [
        {"question": "R1?", "choices": ["p", "q", "r", "s"], "answer": 1, "error_type": "ok"},
        {"question": "R2?", "choices": ["p", "q"], "answer": 0, "error_type": "wrong_groundtruth"},
    ],
    "ceval__ceval-exam__logic__val": [
        {"question": "C1?", "A": "甲", "B": "乙", "C": "丙", "D": "", "answer": "c"},
        {"question": "C2?", "A": "only one", "answer": "A"},
    ],
    "MathArena__aime_2025__test": [{"problem": "P1", "answer": "033"}, {"problem": "P2", "answer": "n/a"}],
    "HuggingFaceH4__MATH-500__test": [
        {"problem": "M1", "solution": "so \\boxed{\\frac{1}{2}}"},
        {"problem": "M2", "solution": "no box"},
    ],
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, rows in ROWS.items():
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(tmp_path))
    return tmp_path


def _envs(name: str) -> list[Any]:
    import importlib

    importlib.import_module(f"tinkerlite.eval.benchmarks.{name.split('_20')[0]}")
    renderer = get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))
    return [e.message_env for e in REGISTRY[name].make_envs(renderer, BenchmarkConfig())]


def _grade(env: Any, text: str) -> tuple[float, dict[str, Any]]:
    result = asyncio.run(env.step({"role": "assistant", "content": text}))
    assert result.episode_done
    return result.reward, result.logs


def _prompt(env: Any) -> str:
    return str(asyncio.run(env.initial_observation())[-1]["content"])


def test_mmlu_pro(data_dir: Path) -> None:
    e1, e2 = _envs("mmlu_pro")
    assert e1.example_id == "mmlu_pro_17" and e1.expected == "C" and e2.expected == "B"
    assert _prompt(e1) == "Q1?\n\n(A) a\n(B) b\n(C) c\n\nAnswer with just the letter (A, B, C, D, etc.)."
    assert _prompt(e2) == "Q2?\n\nAnswer with just the letter."
    assert _grade(e1, "The answer is (C)")[0] == 1.0 and _grade(e1, "\\boxed{A}")[0] == 0.0


def test_gpqa_keeps_matching_rows(data_dir: Path) -> None:
    (env,) = _envs("gpqa")  # G2's answer matches no choice: skipped
    assert env.expected == "A" and "(A) right\n(B) w1\n(C) w2" in _prompt(env)
    reward, logs = _grade(env, "...final: A")
    assert reward == 1.0 and list(logs) == ["example_id", "input", "expected", "extracted", "output"]


def test_supergpqa_and_redux_and_ceval_log_their_category(data_dir: Path) -> None:
    (s,) = _envs("supergpqa")
    assert (s.example_id, s.expected, s.valid_letters) == ("u1", "E", "ABCDE") and "(A, B, C, D, E)" in _prompt(s)
    assert _grade(s, "answer: E") == (1.0, {**_grade(s, "answer: E")[1], "discipline": "Physics"})
    assert list(_grade(s, "x")[1]) == ["example_id", "input", "expected", "extracted", "discipline", "output"]
    (r,) = _envs("mmlu_redux")  # the row flagged wrong_groundtruth is dropped
    assert r.expected == "B" and _grade(r, "B")[1]["subject"] == "anatomy"
    (c,) = _envs("ceval")  # a row with fewer than two choices is dropped
    assert c.expected == "C" and "(C) 丙" in _prompt(c) and "(D)" not in _prompt(c)
    assert _grade(c, "答案是 C")[0] == 1.0 and _grade(c, "A")[0] == 0.0


def test_aime_and_math500(data_dir: Path) -> None:
    (a,) = _envs("aime_2025")[:1]
    assert a.expected_value == 33 and "integer from 000 to 999" in _prompt(a)
    assert _grade(a, "\\boxed{33}")[0] == 1.0 and _grade(a, "\\boxed{34}")[0] == 0.0
    (m,) = _envs("math500")  # the row without a boxed answer is dropped
    assert m.expected == "\\frac{1}{2}" and _prompt(m) == "M1 Put your final answer in \\boxed{}."
    assert _grade(m, "\\boxed{1/2}")[0] == 1.0 and _grade(m, "\\boxed{2}")[0] == 0.0
    assert _grade(m, "no box")[0] == 0.0


def test_config_for_model_matches_the_cookbook_table() -> None:
    import ast

    from tests.official_env import official_source

    src = official_source("cookbook") / "tinker_cookbook" / "eval" / "benchmarks" / "_types.py"
    table = next(
        ast.literal_eval(n.value) for n in ast.parse(src.read_text()).body
        if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "_MODEL_EVAL_DEFAULTS"
    )
    for name, d in table.items():
        cfg = BenchmarkConfig.for_model(name, save_dir="x")
        assert (cfg.max_tokens, cfg.timeout_seconds, cfg.context_window, cfg.save_dir) == (
            int(d["max_tokens"]), float(d["timeout_seconds"]), int(d.get("context_window", 0)) or None, "x")
    assert BenchmarkConfig.for_model(next(iter(table)), max_tokens=7).max_tokens == 7
    with pytest.raises(ValueError, match="Unknown model 'nope/model'"):
        BenchmarkConfig.for_model("nope/model")
