"""distillation.datasets.load_tulu3_prompts / load_deepmath_prompts against a stand-in ``datasets`` module."""

from __future__ import annotations

import logging
import sys
import types
from typing import Any

import pytest

from tinkerlite.distillation import datasets as dd
from tinkerlite.errors import MissingExtraError


def _fake_datasets(tables: dict[tuple[str, str], list[dict[str, Any]]]) -> types.ModuleType:
    mod = types.ModuleType("datasets")

    def load_dataset(repo: str, split: str) -> list[dict[str, Any]]:
        if (repo, split) not in tables:
            raise ValueError(f"Unknown split {split!r} for {repo}")
        return tables[(repo, split)]

    mod.load_dataset = load_dataset  # type: ignore[attr-defined]
    return mod


def test_tulu3_takes_each_first_user_message(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "u1"},
                {"role": "user", "content": "u2"},
            ]
        },
        {"messages": [{"role": "assistant", "content": "only"}]},
        {"messages": [{"role": "user", "content": ""}]},
        {"messages": [{"role": "user", "content": "u3"}]},
    ]
    monkeypatch.setitem(sys.modules, "datasets", _fake_datasets({("allenai/tulu-3-sft-mixture", "train"): rows}))
    assert dd.load_tulu3_prompts() == ["u1", "u3"]


def test_deepmath_split_and_unloadable_returns_none(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    table = {("zwhe99/DeepMath-103K", "train"): [{"question": "1+1?"}, {"question": "2+2?"}]}
    monkeypatch.setitem(sys.modules, "datasets", _fake_datasets(table))
    assert dd.load_deepmath_prompts() == ["1+1?", "2+2?"]
    with caplog.at_level(logging.WARNING):
        assert dd.load_deepmath_prompts("test") is None
    assert "Could not load test split for DeepMath" in caplog.text


def test_missing_datasets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[datasets\]"):
        dd.load_tulu3_prompts()
