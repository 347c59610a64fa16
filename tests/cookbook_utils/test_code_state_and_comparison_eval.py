"""utils.code_state (git HEAD + diff of the modules' repos) and preference.ComparisonEvaluator (win rate)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.preference.comparison_policy_evaluator import ComparisonEvaluator
from tinkerlite.preference.types import Comparison, PreferenceModel
from tinkerlite.utils.code_state import code_state


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")
def test_code_state_reports_head_and_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg_h4cs").mkdir(parents=True)
    (repo / "pkg_h4cs" / "__init__.py").write_text("X = 1\n")
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=a@b", "-c", "user.name=a", "add", ".")
    run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "init")
    monkeypatch.syspath_prepend(str(repo))
    import pkg_h4cs

    clean = code_state([pkg_h4cs])
    assert f"### repo: {repo.resolve()} @ " in clean and "modules: pkg_h4cs" in clean and "(no local changes)" in clean
    (repo / "pkg_h4cs" / "__init__.py").write_text("X = 2\n")
    assert "+X = 2" in code_state(["pkg_h4cs"])
    loose = types.ModuleType("loose_h4")
    loose.__file__ = str(tmp_path / "loose_h4.py")
    assert "### module: loose_h4 (not in a git repository)" in code_state([loose])
    sys.modules.pop("pkg_h4cs", None)


class _Judge(PreferenceModel):
    """Prompt "q0": prefers the policy's (upper-cased) completion; "q1": prefers the reference."""

    async def __call__(self, comparison: Comparison) -> float:
        b_is_new = comparison.completion_B[0]["content"].startswith("NEW")
        likes_new = comparison.prompt_conversation[0]["content"] == "q0"
        return 1.0 if b_is_new == likes_new else -1.0


def test_comparison_evaluator_win_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite import completers

    async def fake_call(self: Any, messages: list[Any]) -> dict[str, str]:
        return {"role": "assistant", "content": "new answer"}

    monkeypatch.setattr(completers.TinkerMessageCompleter, "__call__", fake_call)
    comps = [
        Comparison([{"role": "user", "content": q}], [{"role": "assistant", "content": "old"}], [])
        for q in ("q0", "q1")
    ]
    ev = ComparisonEvaluator(_Judge, comps, "role_colon", "tinkerlite/tiny-chat", content_preprocessor=str.upper)
    out = asyncio.run(ev(sampling_client=None))
    # scores (r(A,B) - r(B,A) + 2) / 4: q0 -> 1, q1 -> 0; stderr = sample std / sqrt(n) = 0.5
    assert out["win_rate"] == pytest.approx(0.5) and out["stderr"] == pytest.approx(0.5)
