"""rl, dpo and distill on their embedded server: killed before the first checkpoint and after one, then
rerun with the same command, every step is in ``metrics.jsonl`` exactly once.

(Before the fix a kill before the first checkpoint left the first steps twice: the log was truncated
only when resuming from a checkpoint.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import REPO, user_env

JOBS = {
    "rl": ["max_steps=6", "save_every=3", "eval_every=0"],
    "dpo": ["max_steps=6", "save_every=3"],
    "distill": ["max_steps=6", "save_every=3", "teacher_steps=4"],
}


def _rows(log: Path) -> list[dict[str, object]]:
    p = log / "metrics.jsonl"
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip().endswith("}")]


def _records(log: Path) -> int:
    p = log / "checkpoints.jsonl"
    return p.read_bytes().count(b"\n") if p.exists() else 0


@pytest.mark.slow
@pytest.mark.parametrize("command", list(JOBS))
def test_kill_then_rerun_logs_every_step_once(tmp_path: Path, command: str) -> None:
    (tmp_path / "home").mkdir()
    env = user_env(tmp_path / "home")
    log = tmp_path / "run"
    args = [sys.executable, "-m", "tinkerlite", command, f"log_path={log}", *JOBS[command]]
    args.append("behavior_if_log_dir_exists=resume")
    for wait_for in (lambda: len(_rows(log)) >= 1, lambda: _records(log) >= 1):
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while not wait_for() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [r["step"] for r in _rows(log) if isinstance(r.get("step"), int)]
    assert steps == sorted(set(steps)), steps  # none twice, none out of order
    assert set(range(6)) <= set(steps), steps
