"""Ctrl-C during a training command: exit 130, one stderr line naming the command that resumes, no noise."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import REPO, one_error_line, user_env


@pytest.mark.parametrize("command", ["rl", "dpo"])
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path, command: str) -> None:
    (tmp_path / "home").mkdir()
    log = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinkerlite", command, f"log_path={log}"],
        cwd=REPO,
        env=user_env(tmp_path / "home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = log / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while (not metrics.exists() or metrics.read_bytes().count(b"\n") < 2) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    line = one_error_line(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), code=130)
    assert f"python -m tinkerlite {command} log_path={log} behavior_if_log_dir_exists=resume" in line
    assert "Task was destroyed" not in err
    rows = [r for r in metrics.read_text().splitlines() if r.strip()]
    assert rows and all(r.startswith("{") and r.endswith("}") for r in rows)  # no torn line left behind
