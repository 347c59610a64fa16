"""rl.play_w_env: the typed reply becomes the action tokens, multiline input ends at two blank lines, and
the episode's rewards are summarised."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tinkerlite.renderers import get_renderer
from tinkerlite.rl.envs.arithmetic import ArithmeticEnv
from tinkerlite.rl.play_w_env import get_async_input, play_env
from tinkerlite.tokenizer_utils import get_tokenizer


def _feed(monkeypatch: pytest.MonkeyPatch, lines: list[str]) -> None:
    it: Iterator[str] = iter(lines)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(it))


def test_play_env_scores_the_typed_answer(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    tok = get_tokenizer("tinkerlite/tiny-chat")
    right = asyncio.run(_play(monkeypatch, tok, ["7"]))
    out = capsys.readouterr().out
    assert "What is 3 + 4?" in out and "Total steps: 1" in out and "\x1b[" not in out
    wrong = asyncio.run(_play(monkeypatch, tok, ["12"]))
    assert right > wrong
    multi = asyncio.run(_play(monkeypatch, tok, ["The answer", "is 7", "", ""], multiline=True))
    assert multi == right  # the lines, joined, graded like the single-line answer


async def _play(monkeypatch: pytest.MonkeyPatch, tok: object, lines: list[str], multiline: bool = False) -> float:
    _feed(monkeypatch, lines)
    traj = await play_env(ArithmeticEnv(3, 4, get_renderer("role_colon", tok)), tok, multiline=multiline)
    assert len(traj.transitions) == 1
    return traj.transitions[0].reward


def test_multiline_input_keeps_single_blank_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    _feed(monkeypatch, ["a", "", "b", "", ""])
    assert asyncio.run(get_async_input("?", multiline=True)) == "a\n\nb"
