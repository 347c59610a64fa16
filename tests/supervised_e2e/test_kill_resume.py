"""SIGKILL the training process at seeded random points, resume each time, and get bit-identical weights.

The server runs in its own process with a persistent state dir; the trainer (``sft_worker``) is the
process that dies. A kill can leave: steps applied on the server past the last record (the resumed run
starts a fresh training client from the recorded state, so they are discarded), a save that completed
on the server but was never recorded (resume falls back to the previous record), and a torn last line
in ``checkpoints.jsonl`` / ``metrics.jsonl`` (simulated here too). Every recorded checkpoint is then
compared with the uninterrupted run's checkpoint for the same step, array by array.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.client.service_client import ServiceClient
from tinkerlite.utils.files import read_jsonl as tolerant_read_jsonl

from .conftest import REPO, worker_env
from .helpers import API_KEY, checkpoint_arrays, read_jsonl, small_config

# The default pipeline depth (submit_ahead=4): what users run is what must resume exactly.
RUN = {"num_epochs": 3, "save_every": 1, "eval_every": 3}  # 8 batches/epoch -> 24 steps
TOTAL_STEPS = 24


def _spawn(url: str, log_path: Path, data: Path) -> subprocess.Popen[str]:
    spec = {"base_url": url, "log_path": str(log_path), "data": str(data), **RUN}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.supervised_e2e.sft_worker", json.dumps(spec)],
        cwd=REPO,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _records(log_path: Path) -> int:
    p = log_path / "checkpoints.jsonl"
    return p.read_bytes().count(b"\n") if p.exists() else 0


def _run_to_completion(url: str, log_path: Path, data: Path) -> dict[str, Any]:
    proc = _spawn(url, log_path, data)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return dict(json.loads(out.strip().splitlines()[-1]))


def _saved_steps(state_dir: Path) -> dict[str, set[int]]:
    """Per training run on the server, the periodic checkpoints that completed there."""
    out: dict[str, set[int]] = {}
    for run in (state_dir / "runs").iterdir():
        names = {p.stem for p in (run / "weights").glob("*.json")} if (run / "weights").is_dir() else set()
        out[run.name] = {int(n) for n in names if n.isdigit()}
    return out


def _forward_logprobs(url: str, state_path: str, data: Path) -> list[list[float]]:
    _, test = small_config("/unused", data, url).dataset_builder()
    assert test is not None
    batch = test.get_batch(0)
    sc = ServiceClient(base_url=url, api_key=API_KEY)
    try:
        tc = sc.create_training_client_from_state(state_path).result()
        out = tc.forward(batch, loss_fn="cross_entropy").result()
        return [list(o["logprobs"].dense_flat()) for o in out.loss_fn_outputs]
    finally:
        sc.close()


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_is_bit_identical(
    server_process: tuple[str, Path], data: Path, tmp_path: Path
) -> None:
    url, state_dir = server_process
    clean = tmp_path / "clean"
    t0 = time.monotonic()
    clean_summary = _run_to_completion(url, clean, data)
    assert clean_summary["steps_run"] == TOTAL_STEPS
    # The random slice of a step after each target is scaled to this machine's step time: a fixed 0.25 s
    # is many steps on a quiet machine, and the run then finished before enough kills had landed.
    step_s = (time.monotonic() - t0) / TOTAL_STEPS

    rng = random.Random(1234)
    # Kill 1 lands by time (often during start-up or the first steps); kills 2..7 each after 1-2 more
    # records than the run started with, plus a random slice of a step, so they spread over the run.
    log = tmp_path / "killed"
    kills: list[dict[str, Any]] = []
    for i in range(7):
        runs_before = set(_saved_steps(state_dir))
        target = _records(log) + (rng.randint(1, 2) if i else 0)
        proc = _spawn(url, log, data)
        deadline = time.monotonic() + 120
        while _records(log) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, min(0.25, step_s)) if i else rng.uniform(0.2, 0.6))
        if proc.poll() is not None:
            kills.append({"target": target, "finished_before_kill": True})
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        time.sleep(1.0)  # the server goes on with what the dead client had already submitted
        recorded = [r["step"] for r in tolerant_read_jsonl(log / "checkpoints.jsonl")]  # may end in a torn line
        new_runs = {r: s for r, s in _saved_steps(state_dir).items() if r not in runs_before}
        saved_on_server = max((max(s) for s in new_runs.values() if s), default=0)
        kills.append({"target": target, "last_recorded": max(recorded, default=0), "saved_on_server": saved_on_server})
        if i == 2:  # what a kill inside write() would leave: a torn last line in both logs
            for name in ("checkpoints.jsonl", "metrics.jsonl"):
                with open(log / name, "ab") as f:
                    f.write(b'{"name": "0000')
    resumed = _run_to_completion(url, log, data)
    print("kills:", kills)

    # Enough kills, at least one of them after the server had applied and saved past the last record.
    assert sum(1 for k in kills if not k.get("finished_before_kill")) >= 6, kills
    assert any(k.get("saved_on_server", 0) > k.get("last_recorded", 0) for k in kills), kills

    clean_records = {r["step"]: r for r in read_jsonl(clean / "checkpoints.jsonl")}
    records = read_jsonl(log / "checkpoints.jsonl")
    steps = [r["step"] for r in records]
    assert steps == sorted(set(steps)), f"a step was recorded twice or out of order: {steps}"
    assert steps[-1] == TOTAL_STEPS and records[-1].get("final") is True
    for r in records:  # every checkpoint holds exactly the steps its record claims
        c = clean_records[r["step"]]
        assert (r["epoch"], r["batch"], r["elapsed_tokens"]) == (c["epoch"], c["batch"], c["elapsed_tokens"])
        assert checkpoint_arrays(state_dir, r["state_path"]) == checkpoint_arrays(state_dir, c["state_path"]), r
        assert checkpoint_arrays(state_dir, r["sampler_path"]) == checkpoint_arrays(state_dir, c["sampler_path"])
    final = resumed.get("state_path") or records[-1]["state_path"]
    assert final == records[-1]["state_path"]
    assert _forward_logprobs(url, final, data) == _forward_logprobs(url, clean_summary["state_path"], data)

    # metrics.jsonl: every step exactly once, with the clean run's training NLL bit for bit
    rows = [r for r in read_jsonl(log / "metrics.jsonl") if "train_mean_nll" in r]
    clean_rows = [r for r in read_jsonl(clean / "metrics.jsonl") if "train_mean_nll" in r]
    assert [r["step"] for r in rows] == list(range(TOTAL_STEPS))
    assert [r["train_mean_nll"] for r in rows] == [r["train_mean_nll"] for r in clean_rows]
