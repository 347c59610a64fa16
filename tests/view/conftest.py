"""Real run dirs for the viewer's tests: a short ``sl`` run and a short ``rl`` run, made once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("TINKER_BASE_URL", None)
    p = subprocess.run(
        [sys.executable, "-m", "tinkerlite", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]


def rollout_record(iteration: int, group: int, traj: int, reward: float) -> dict[str, Any]:
    """One trajectory record in the cookbook's rollout-summary schema (``rl/rollout_logging.py``)."""
    return {
        "schema_version": 1,
        "split": "train",
        "iteration": iteration,
        "group_idx": group,
        "traj_idx": traj,
        "tags": ["digits"],
        "sampling_client_step": iteration,
        "total_reward": reward,
        "final_reward": 0.0,
        "trajectory_metrics": {},
        "steps": [
            {
                "step_idx": 0,
                "ob_len": 6,
                "ac_len": 6,
                "reward": reward,
                "episode_done": True,
                "metrics": {"digit_frac": reward},
                "logs": {"response": f"answer {traj}"},
            }
        ],
        "final_ob_len": 12,
    }


@pytest.fixture(scope="session")
def view_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``root/sl`` and ``root/rl`` (real runs; the rl run's own rollout files and token sidecars included),
    ``root/cookbook_rl`` (the rl run's metrics plus cookbook rollout summaries, no token sidecar), and elsewhere
    a real ``dpo`` run and ``rl_metrics_only`` (the rl run without its iteration dirs)."""
    root = tmp_path_factory.mktemp("view_runs")
    _run("sl", f"log_path={root / 'sl'}", "max_steps=6", "eval_every=2")
    _run("rl", f"log_path={root / 'rl'}", "max_steps=3")
    cb = root / "cookbook_rl"
    shutil.copytree(root / "rl", cb, ignore=shutil.ignore_patterns("server", "iteration_*"))
    for i in (1, 2):
        it = cb / f"iteration_{i:06d}"
        it.mkdir()
        with open(it / "train_rollout_summaries.jsonl", "w") as f:
            for g in range(2):
                for t in range(4):
                    f.write(json.dumps(rollout_record(i, g, t, [0.0, 0.25, 0.5, 1.0][t] * i / 2)) + "\n")
    # an old, unfinished run: crashed
    (cb / "checkpoints.jsonl").write_text("")
    for p in cb.iterdir():
        if p.is_file():
            os.utime(p, (1_000_000_000, 1_000_000_000))
    other = tmp_path_factory.mktemp("view_other_recipes")  # outside root: the tests above count root's runs
    _run("dpo", f"log_path={other / 'dpo'}", "max_steps=2")
    shutil.copytree(root / "rl", other / "rl_metrics_only", ignore=shutil.ignore_patterns("server", "iteration_*"))
    return {
        "root": root, "sl": root / "sl", "rl": root / "rl", "cookbook_rl": cb, "dpo": other / "dpo",
        "rl_metrics_only": other / "rl_metrics_only",
    }


@pytest.fixture
def serve_view() -> Iterator[Any]:
    """Start :func:`tinkerlite.view.server.make_server` in a thread; yields a factory; shuts all down."""
    from tinkerlite.view.server import make_server

    servers = []

    def start(roots: list[str], **kw: Any) -> Any:
        srv = make_server(roots, port=0, **kw)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()
