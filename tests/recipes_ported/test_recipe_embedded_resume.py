"""tinkerlite's own recipes keep the embedded server's state under ``log_path``, so a rerun resumes.

Before, each recipe run started a fresh embedded server in a temporary directory: the checkpoint that
``checkpoints.jsonl`` named was gone and the rerun failed with "unknown training run".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.official_env import REPO


def _run(log_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TINKER_BASE_URL", "TINKER_API_KEY")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "tinkerlite.recipes.sl_loop", f"log_path={log_path}", "save_every=2", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sl_loop_rerun_resumes_from_embedded_state(tmp_path: Path) -> None:
    log = tmp_path / "run"
    first = _run(log, "max_steps=4")
    assert first.returncode == 0, first.stderr[-2000:]
    assert (log / "server").is_dir(), "the embedded server's state should live under log_path"
    second = _run(log, "max_steps=8")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "unknown training run" not in second.stderr
    steps = [json.loads(line)["step"] for line in (log / "metrics.jsonl").read_text().splitlines() if line.strip()]
    assert steps == list(range(8)), steps
