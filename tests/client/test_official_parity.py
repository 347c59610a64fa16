"""Same traffic as the official SDK: tinkerlite's trace of ``sdk_flow.py`` equals the committed
trace recorded from ``tinker==0.38.0`` (regenerate with ``python -m tests.client.official_trace
--regenerate``); the ``official`` tier also re-records the official trace and checks the fixture."""

from __future__ import annotations

import json
import sys

import pytest

from .official_trace import FIXTURE, official_python, run_flow


def _diff(expected: list[dict[str, object]], got: list[dict[str, object]]) -> str:
    lines = [f"{len(expected)} official vs {len(got)} tinkerlite requests"]
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            lines.append(f"first difference at #{i}:\n official  {json.dumps(a)}\n tinkerlite {json.dumps(b)}")
            break
    return "\n".join(lines)


def test_tinkerlite_sends_what_the_official_sdk_sent() -> None:
    expected = json.loads(FIXTURE.read_text())
    got = run_flow(sys.executable, "tinkerlite")
    assert got == expected, _diff(expected, got)


def test_overlapped_submissions_send_the_same_requests() -> None:
    """By default ordered submissions overlap; the requests are the same, only arrival order may vary."""
    expected = json.loads(FIXTURE.read_text())
    got = run_flow(sys.executable, "tinkerlite", strict_order=False)

    def key(r: dict[str, object]) -> str:
        return json.dumps(r, sort_keys=True)

    assert sorted(map(key, got)) == sorted(map(key, expected))


@pytest.mark.official
@pytest.mark.slow
def test_committed_fixture_matches_a_fresh_official_run() -> None:
    python = official_python()  # venv under ~/.cache/tinkerlite/official-venvs (created from PyPI on first use)
    expected = json.loads(FIXTURE.read_text())
    got = run_flow(python, "tinker")
    assert got == expected, _diff(expected, got)
