"""Shipped environments and the numeric grader."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.renderers import get_renderer
from tinkerlite.rl.envs.arithmetic import ArithmeticDataset, ArithmeticEnv
from tinkerlite.rl.envs.digits import DigitsEnv, digit_fraction
from tinkerlite.rl.envs.gsm8k import Gsm8kEnv, Gsm8kJsonlDatasetBuilder, gsm8k_final_answer, read_problems
from tinkerlite.rl.grading import extract_boxed, extract_final_number, grade_numeric, parse_number
from tinkerlite.tokenizers.byte_level import ByteChatTokenizer


@pytest.fixture
def renderer():  # type: ignore[no-untyped-def]
    return get_renderer("role_colon", ByteChatTokenizer())


def _reply(text: str) -> list[int]:
    return list(text.encode())


@pytest.mark.parametrize("use_sympy", [False, True])
def test_grade_numeric(use_sympy: bool) -> None:
    assert grade_numeric("1,234", "1234", use_sympy=use_sympy)
    assert grade_numeric("18.00", "18", use_sympy=use_sympy)
    assert grade_numeric("\\frac{3}{4}", "0.75", use_sympy=use_sympy)
    assert grade_numeric("$5", "5", use_sympy=use_sympy)
    assert not grade_numeric("17", "18", use_sympy=use_sympy)
    assert not grade_numeric(None, "18", use_sympy=use_sympy)
    assert not grade_numeric("__import__('os')", "0", use_sympy=use_sympy)


def test_sympy_fallback_only_when_installed() -> None:
    pytest.importorskip("sympy")
    assert grade_numeric("2^3", "8") and not grade_numeric("2^3", "8", use_sympy=False)


def test_extraction() -> None:
    assert extract_boxed("so \\boxed{\\frac{1}{2}} and \\boxed{42}") == "42"
    assert extract_boxed("nested \\boxed{a{b}c}") == "a{b}c"
    assert extract_boxed("\\boxed 7.") == "7"
    assert extract_boxed("no box") is None and extract_boxed("\\boxed{open") is None
    assert extract_final_number("3 apples, then 1,250.5 more") == "1,250.5"
    assert parse_number("50%") == 50 and parse_number("abc") is None
    assert gsm8k_final_answer("He has 3.\n#### 1,234") == "1234"


def test_problem_env_reward_formula(renderer) -> None:  # type: ignore[no-untyped-def]
    env = Gsm8kEnv("What is 6 * 7?", "42", renderer)
    ob, stop = asyncio.run(env.initial_observation())
    assert stop == ["\n\nUser:"]
    assert "Write your answer in \\boxed{} format." in ByteChatTokenizer().decode(ob.to_ints())
    good = asyncio.run(env.step(_reply(" It is \\boxed{42}\n\nUser:")))
    assert (good.reward, good.metrics) == (1.0, {"format": 1.0, "correct": 1.0})
    no_stop = asyncio.run(Gsm8kEnv("q", "42", renderer).step(_reply(" \\boxed{42}")))
    assert no_stop.reward == pytest.approx(0.9) and no_stop.metrics["format"] == 0.0
    wrong = asyncio.run(Gsm8kEnv("q", "42", renderer).step(_reply(" \\boxed{41}\n\nUser:")))
    assert wrong.reward == 0.0
    unboxed = asyncio.run(Gsm8kEnv("q", "42", renderer).step(_reply(" 42\n\nUser:")))
    assert unboxed.reward == pytest.approx(-0.1)


def test_arithmetic_env_and_dataset(renderer) -> None:  # type: ignore[no-untyped-def]
    env = ArithmeticEnv(12, 30, renderer)
    assert env.get_question() == "What is 12 + 30?"
    r = asyncio.run(env.step(_reply(" 40, no, 42\n\nUser:")))
    assert r.metrics == {"format": 1.0, "correct": 1.0}
    ds = ArithmeticDataset(batch_size=3, renderer=renderer, group_size=2, n_batches=5, seed=1)
    b1, b2 = ds.get_batch(2), ds.get_batch(2)
    qs = [asyncio.run(b.make_envs())[0].get_question() for b in b1]  # type: ignore[attr-defined]
    assert qs == [asyncio.run(b.make_envs())[0].get_question() for b in b2]  # type: ignore[attr-defined]
    assert len(ds) == 5 and b1[0].logging_tags() == ["arithmetic"]
    assert pickle.loads(pickle.dumps(b1[0])).num_envs == 2  # type: ignore[attr-defined]


def test_gsm8k_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    rows = [f'{{"question": "Q{i}?", "answer": "work\\n#### {i},000"}}' for i in range(5)]
    p.write_text("\n".join(rows) + "\n\n")
    assert read_problems(p)[2] == ("Q2?", "2000")
    train, test = asyncio.run(
        Gsm8kJsonlDatasetBuilder(
            file_path=str(p),
            batch_size=2,
            group_size=3,
            model_name_for_tokenizer="tinkerlite/tiny-chat",
            renderer_name="role_colon",
            test_size=1,
        )()
    )
    assert len(train) == 2 and test is not None and len(test.get_batch(0)) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "a", "answer": "1"}\n{"question": "b"}\n')
    with pytest.raises(ValidationError, match=r"bad.jsonl:2.answer"):
        read_problems(bad)
    bad.write_text("not json\n")
    with pytest.raises(ValidationError, match=r"bad.jsonl:1"):
        read_problems(bad)


def test_digits_env() -> None:
    assert digit_fraction(list(b"12a4")) == 0.75 and digit_fraction([]) == 0.0
    env = DigitsEnv("Digits:", ByteChatTokenizer())
    ob, stop = asyncio.run(env.initial_observation())
    assert ob.to_ints() == list(b"Digits:") and stop == []
    assert asyncio.run(env.step(list(b"1234"))).metrics == {"digit_frac": 1.0, "all_digits": 1.0}
