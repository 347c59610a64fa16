"""``python -m tinkerlite.recipes.<name>``: every recipe module parses its cookbook keys, refuses bad input in
one line naming the key, and trains offline against the embedded server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

RECIPES = [
    "sl_loop", "sl_basic", "rl_loop", "rl_basic", "chat_sl.train", "math_rl.train", "preference.dpo.train",
    "preference.shorter.train", "distillation.on_policy_distillation", "distillation.off_policy_reasoning",
    "prompt_distillation.train", "prompt_distillation.create_data", "multiplayer_rl.guess_number.train",
    "multiplayer_rl.twenty_questions.train", "rl_numerics_check.train",
]


def _run(args: list[str], tmp: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TINKER_COOKBOOK_RUNS_DIR": str(tmp / "runs"),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for key in ("TINKER_BASE_URL", "TINKER_API_KEY"):
        env.pop(key, None)
    return subprocess.run([sys.executable, "-m", *args], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name", RECIPES)
def test_help_lists_cookbook_keys(name: str, tmp_path: Path) -> None:
    proc = _run([f"tinkerlite.recipes.{name}", "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    for key in ("model_name", "base_url"):
        assert key in proc.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["bogus_key=1"], "bogus_key"),
    (["batch_size=many"], "batch_size: must be an integer"),
    (["loss_fn=nope"], "loss_fn: must be one of"),
])
def test_bad_input_is_one_line_naming_the_key(args: list[str], needle: str, tmp_path: Path) -> None:
    proc = _run(["tinkerlite.recipes.rl_loop", *args], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_missing_dataset_names_file_path(tmp_path: Path) -> None:
    proc = _run(["tinkerlite.recipes.sl_loop", f"file_path={tmp_path / 'absent.jsonl'}"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("sl_loop: file_path: no such file")


def test_sl_loop_trains_offline_by_default(tmp_path: Path) -> None:
    log = tmp_path / "run"
    proc = _run(["tinkerlite.recipes.sl_loop", "max_steps=4", f"log_path={log}"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "embedded local server" in proc.stdout
    nll = [json.loads(line)["train_mean_nll"] for line in (log / "metrics.jsonl").read_text().splitlines()]
    assert len(nll) == 4 and nll[-1] < nll[0] * 0.9, nll


def test_nested_task_keys(tmp_path: Path) -> None:
    proc = _run(["tinkerlite.recipes.rl_numerics_check.train", "task.word_hint=hidden"], tmp_path)
    assert proc.returncode == 2
    assert "task.word_hint" in proc.stderr and "single word" in proc.stderr, proc.stderr
