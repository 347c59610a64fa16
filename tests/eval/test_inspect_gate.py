"""Without inspect_ai, the inspect integration modules refuse to import with an error naming the extra.

With inspect_ai installed they work: tests/eval/test_inspect_e2e.py (slow tier, its own venv).
"""

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


def test_the_error_is_a_missing_extra_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite.errors import MissingExtraError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "inspect_ai" else real(n, *a))
    sys.modules.pop("tinkerlite.eval.run_inspect_evals", None)
    sys.modules.pop("tinkerlite.eval.inspect_evaluators", None)
    sys.modules.pop("tinkerlite.eval.inspect_utils", None)
    with pytest.raises(MissingExtraError) as info:
        importlib.import_module("tinkerlite.eval.run_inspect_evals")
    assert (info.value.package, info.value.extra) == ("inspect_ai", "inspect")
    assert "tinkerlite.eval.inspect_utils" in str(info.value)  # the first module (of the chain) that needs it


def test_tinkerlite_eval_never_imports_inspect_ai() -> None:
    import subprocess

    code = "import sys, tinkerlite, tinkerlite.eval; print(any(m.startswith('inspect_ai') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
