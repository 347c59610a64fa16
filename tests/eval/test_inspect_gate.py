"""The inspect_ai integration modules refuse to import with an error that says what to do."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

MODULES = ["inspect_evaluators", "inspect_utils", "run_inspect_evals", "custom_inspect_task"]


@pytest.mark.parametrize("name", MODULES)
def test_without_inspect_ai_the_extra_is_named(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "inspect_ai" else real(n, *a))
    sys.modules.pop(f"tinkerlite.eval.{name}", None)
    with pytest.raises(ImportError, match=r"pip install 'tinkerlite\[inspect\]'"):
        importlib.import_module(f"tinkerlite.eval.{name}")


def test_with_inspect_ai_present_it_points_at_the_cookbook(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object() if n == "inspect_ai" else real(n, *a))
    sys.modules.pop("tinkerlite.eval.inspect_utils", None)
    with pytest.raises(ImportError, match=r"use tinker_cookbook\.eval\.inspect_utils"):
        importlib.import_module("tinkerlite.eval.inspect_utils")
