"""A throwaway venv with inspect_ai, for the inspect integration tests.

inspect_ai is not a test dependency of tinkerlite (the ``inspect`` extra is optional): the venv lives in
the official-venvs cache (``tests.official_env.ensure_venv``), is built once per requirement set, and
runs the checks in a subprocess, so the main test environment never imports inspect_ai. tinkerlite is not
installed into it: the subprocess imports this checkout (``PYTHONPATH`` = the repo root), so one cached
venv serves every checkout and always tests the code in front of it. numpy is the ``local`` extra.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.official_env import REPO, ensure_venv
from tinkerlite.eval._inspect_gate import TESTED_INSPECT_AI as INSPECT_AI

REQUIREMENTS = [f"inspect-ai=={INSPECT_AI}", "chz==0.4.0", "numpy>=1.24", "pytest>=8"]


def inspect_python() -> Path:
    return ensure_venv(f"inspect-ai-{INSPECT_AI}", REQUIREMENTS)


def run_in_venv(args: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python args...`` in the inspect venv from the repo root (never in tests/: it has a types pkg)."""
    full = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "NO_COLOR": "1", **(env or {})}
    full["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [str(inspect_python()), *args], cwd=REPO, env=full, capture_output=True, text=True, timeout=timeout
    )
