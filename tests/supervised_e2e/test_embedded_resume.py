"""The README main job on its embedded server, killed at three points and resumed with the same command.

The embedded server keeps its state in ``<log_path>/server``, so the trainer and the server die together
and the rerun must find both the run's records and the server's checkpoints. Kill points: before the
first checkpoint, mid-pipeline between two checkpoints, and inside the server's write of a checkpoint
(injected by ``crash_cli``, since a kill from outside cannot be timed that finely). Once with SIGKILL,
once with SIGINT (Ctrl-C: exit 130 and one line saying how to resume). After the last rerun the final
weights must equal an uninterrupted run's bit for bit, and ``metrics.jsonl`` must hold every step
exactly once, with the uninterrupted run's training NLL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO
from .helpers import checkpoint_arrays, read_jsonl

MAX_STEPS = 16
JOB = [f"max_steps={MAX_STEPS}", "save_every=4", "sample_prompts=0", "behavior_if_log_dir_exists=resume"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TINKER_BASE_URL", "TINKER_API_KEY")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    return env


def _command(log: Path) -> list[str]:
    return [sys.executable, "-m", "tinkerlite", "sl", f"log_path={log}", *JOB]


def _rows(log: Path) -> int:
    p = log / "metrics.jsonl"
    return p.read_bytes().count(b"\n") if p.exists() else 0


def _run(log: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_command(log), cwd=REPO, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def _stop_after_rows(log: Path, rows: int, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start the job and send ``sig`` once ``metrics.jsonl`` has ``rows`` rows (steps are in flight then)."""
    proc = subprocess.Popen(
        _command(log), cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while _rows(log) < rows and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, f"the job ended before the kill point: {proc.communicate()}"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _crash_in_checkpoint_write(log: Path, nth: int, sig: str) -> subprocess.CompletedProcess[str]:
    env = {**_env(), "TL_CRASH": json.dumps({"suffix": ".npz", "nth": nth, "signal": sig})}
    args = [sys.executable, "-m", "tests.supervised_e2e.crash_cli", "sl", f"log_path={log}", *JOB]
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _check_interrupted(done: subprocess.CompletedProcess[str], sig: signal.Signals) -> None:
    if sig == signal.SIGKILL:
        assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr)
        return
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Task was destroyed" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "behavior_if_log_dir_exists=resume" in lines[0], done.stderr


def _check_consistent(log: Path) -> None:
    """Whatever the crash point: every checkpoint record has the rows of all the steps it contains."""
    records = read_jsonl(log / "checkpoints.jsonl") if (log / "checkpoints.jsonl").exists() else []
    steps = [r["step"] for r in read_jsonl(log / "metrics.jsonl") if "train_mean_nll" in r]
    assert steps == list(range(len(steps))), steps
    for r in records:
        assert r["step"] <= len(steps), (r, steps)


def _final(log: Path) -> dict[str, Any]:
    records = read_jsonl(log / "checkpoints.jsonl")
    assert records[-1].get("final") is True and records[-1]["step"] == MAX_STEPS
    return records[-1]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("clean") / "run"
    _run(log)
    return log


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "sigint"])
def test_killed_three_times_then_resumed_is_bit_identical(clean: Path, tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "run"
    # 1. before the first checkpoint (step 4): rows 0..1 exist and no record does
    _check_interrupted(_stop_after_rows(log, 2, sig), sig)
    assert not (log / "checkpoints.jsonl").exists() or not read_jsonl(log / "checkpoints.jsonl")
    _check_consistent(log)
    # 2. mid-pipeline, between the checkpoints after steps 8 and 12, with the next steps already submitted
    _check_interrupted(_stop_after_rows(log, 10, sig), sig)
    _check_consistent(log)
    assert max(r["step"] for r in read_jsonl(log / "checkpoints.jsonl")) == 8
    # 3. inside the server's write of the next checkpoint's second array file (sampler weights after 12)
    _check_interrupted(_crash_in_checkpoint_write(log, 2, sig.name.removeprefix("SIG")), sig)
    _check_consistent(log)
    assert max(r["step"] for r in read_jsonl(log / "checkpoints.jsonl")) == 8  # the half-written one is not recorded
    assert list((log / "server" / "runs").glob("*/sampler_weights/.*.tmp")), "the crash left no half-written file"

    _run(log)

    got, want = _final(log), _final(clean)
    for key in ("state_path", "sampler_path"):
        assert checkpoint_arrays(log / "server", got[key]) == checkpoint_arrays(clean / "server", want[key]), key
    rows = [r for r in read_jsonl(log / "metrics.jsonl") if "train_mean_nll" in r]
    clean_rows = [r for r in read_jsonl(clean / "metrics.jsonl") if "train_mean_nll" in r]
    assert [r["step"] for r in rows] == list(range(MAX_STEPS))
    assert [r["train_mean_nll"] for r in rows] == [r["train_mean_nll"] for r in clean_rows]
    # the embedded run's tinker:// paths stay valid for a later `serve --state-dir <log_path>/server`
    from tinkerlite.client.service_client import ServiceClient
    from tinkerlite.local import serve

    with serve(api_key="tml-later", state_dir=str(log / "server")) as url:
        sc = ServiceClient(base_url=url, api_key="tml-later")
        try:
            info = sc.create_rest_client().get_weights_info_by_tinker_path(got["state_path"]).result()
            assert info.base_model == "tinkerlite/tiny-chat"
            sc.create_training_client_from_state_with_optimizer(got["state_path"]).result()
        finally:
            sc.close()
