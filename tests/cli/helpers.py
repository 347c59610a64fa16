"""Run ``python -m tinkerlite`` as a user would: a clean environment, no service configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """No TINKER_* settings and an empty HOME (no ~/.tinker/credentials.json), one BLAS thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINKER_", "TINKERLITE_"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str], python: str = sys.executable, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "tinkerlite", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def one_error_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The run failed with ``code`` and said so in exactly one stderr line, with no traceback."""
    assert done.returncode == code, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr[-3000:]
    return lines[0]
