"""Conformance: the official tinker 0.38 SDK trains with Dimuon and the 0.38 losses on the local server.

Uses the same throwaway torch-free venv as ``test_official_sdk.py`` (``tests/official_env.py``); the flow
is ``official_flow_038_extras.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

import tinkerlite.local

from .test_official_sdk import venv_python

pytestmark = [pytest.mark.official, pytest.mark.slow]

HERE = Path(__file__).parent


def test_official_sdk_dimuon_stable_reinforce_and_gspo() -> None:
    py = venv_python("0.38.0")
    with tinkerlite.local.serve() as url:
        env = {**os.environ, "TINKER_BASE_URL": url, "TINKER_API_KEY": "tml-local-test", "TINKER_TELEMETRY": "0"}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [str(py), str(HERE / "official_flow_038_extras.py")], env=env, capture_output=True, text=True, timeout=600
        )
    assert proc.returncode == 0 and "FLOW OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-6000:]
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert facts["sdk"] == "0.38.0"
    assert facts["losses"][-1] < facts["losses"][0]
    assert all(math.isfinite(v) and v != 0 for v in facts["rl"].values()), facts
    assert "created with the adamw optimizer" in facts["mixed_error"], facts
