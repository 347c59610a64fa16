"""SFT against the local server over HTTP: it learns, and its logs have the cookbook's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinkerlite.supervised import cli
from tinkerlite.supervised.train import run

from .conftest import REPO, worker_env
from .helpers import API_KEY, checkpoint_arrays, read_jsonl, small_config

# Keys the cookbook's supervised/train.py (tinker-cookbook 0.6.1) writes on every step row, and on eval steps.
COOKBOOK_STEP_KEYS = {
    "step", "epoch", "progress", "learning_rate", "num_sequences", "num_tokens", "num_loss_tokens",
    "train_mean_nll", "train_mean_bpb", "tokens/sampled", "tokens/prefill_cached", "tokens/prefill_uncached",
    "tokens/trained", "tokens/cumulative/trained", "time/total",
}  # fmt: skip
COOKBOOK_EVAL_KEYS = {"test/nll", "test/bpb"}
# checkpoint_utils.CheckpointRecord fields plus the loop state supervised/train.py stores in it.
COOKBOOK_CKPT_KEYS = {"name", "epoch", "batch", "state_path", "sampler_path", "elapsed_tokens"}


def test_loss_and_test_nll_fall_and_logs_have_cookbook_keys(
    server: tuple[str, Path], data: Path, tmp_path: Path
) -> None:
    url, state_dir = server
    log = tmp_path / "log"
    summary = run(small_config(log, data, url, num_epochs=2, save_every=4, eval_every=4, submit_ahead=1))
    assert summary["steps_run"] == 16

    rows = read_jsonl(log / "metrics.jsonl")
    steps = [r for r in rows if "train_mean_nll" in r]
    assert [r["step"] for r in steps] == list(range(16))
    nll = [r["train_mean_nll"] for r in steps]
    assert sum(nll[-3:]) / 3 < sum(nll[:3]) / 3 - 0.5, nll
    tests = [r["test/nll"] for r in rows if "test/nll" in r]
    assert len(tests) == 5  # steps 0, 4, 8, 12 and after the last step
    assert tests[-1] < tests[0] - 0.5, tests
    assert summary["test/nll"] == tests[-1]
    for r in steps:
        assert COOKBOOK_STEP_KEYS <= set(r), COOKBOOK_STEP_KEYS - set(r)
        if r["step"] % 4 == 0:
            assert COOKBOOK_EVAL_KEYS <= set(r)
    assert steps[-1]["tokens/cumulative/trained"] == sum(r["num_tokens"] for r in steps)
    assert steps[-1]["progress"] == 1.0

    records = read_jsonl(log / "checkpoints.jsonl")
    assert [r["name"] for r in records] == ["000004", "000008", "000012", "final"]
    for r in records:
        assert COOKBOOK_CKPT_KEYS <= set(r), COOKBOOK_CKPT_KEYS - set(r)
        checkpoint_arrays(state_dir, r["state_path"])  # the files exist and are readable
    assert [(r["epoch"], r["batch"], r["step"]) for r in records] == [(0, 4, 4), (1, 0, 8), (1, 4, 12), (2, 0, 16)]
    assert records[-1]["final"] is True
    assert records[-1]["elapsed_tokens"] == steps[-1]["tokens/cumulative/trained"]
    config = json.loads((log / "config.json").read_text())
    assert config["model_name"] == "tinkerlite/tiny-chat" and config["log_path"] == str(log)


def _cli(url: str, log: Path, data: Path, behavior: str, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setenv("TINKER_API_KEY", API_KEY)
    argv = [
        f"log_path={log}", f"base_url={url}", f"file_path={data}", f"behavior_if_log_dir_exists={behavior}",
        "batch_size=4", "test_size=8", "max_length=96", "num_epochs=1", "save_every=2", "eval_every=0",
        "warmup_steps=0", "sample_prompts=0", "lora_rank=8", *extra,
    ]  # fmt: skip
    return cli.main(argv)


def test_log_dir_raise_and_delete(
    server: tuple[str, Path],
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, _ = server
    log = tmp_path / "log"
    log.mkdir()
    (log / "marker").write_text("old run")
    assert _cli(url, log, data, "raise", monkeypatch) == 2
    assert "already exists" in capsys.readouterr().err
    assert (log / "marker").exists()  # raise touched nothing

    assert _cli(url, log, data, "delete", monkeypatch, "max_steps=3") == 0
    assert not (log / "marker").exists()
    assert [r["step"] for r in read_jsonl(log / "metrics.jsonl") if "train_mean_nll" in r] == [0, 1, 2]


def test_log_dir_resume_continues_from_the_last_record(
    server: tuple[str, Path], data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state_dir = server
    clean, log = tmp_path / "clean", tmp_path / "log"
    assert _cli(url, clean, data, "raise", monkeypatch) == 0
    assert _cli(url, log, data, "raise", monkeypatch) == 0
    # Pretend the run died after its second checkpoint: drop the later records (and leave a torn line).
    records = (log / "checkpoints.jsonl").read_text().splitlines()
    assert len(records) == 4  # 000002, 000004, 000006, final
    (log / "checkpoints.jsonl").write_text("\n".join(records[:2]) + "\n" + records[2][:20])
    assert _cli(url, log, data, "resume", monkeypatch) == 0
    got, want = read_jsonl(log / "checkpoints.jsonl"), read_jsonl(clean / "checkpoints.jsonl")
    assert [r["name"] for r in got] == ["000002", "000004", "000006", "final"]
    for g, w in zip(got, want, strict=True):
        assert checkpoint_arrays(state_dir, g["state_path"]) == checkpoint_arrays(state_dir, w["state_path"])
    steps = [r["step"] for r in read_jsonl(log / "metrics.jsonl") if "train_mean_nll" in r]
    assert steps == list(range(8))
    assert any(p.name.startswith("metrics.jsonl.pre_resume_") for p in log.iterdir())
    # A finished run resumed again trains nothing and sends no training step.
    assert _cli(url, log, data, "resume", monkeypatch) == 0
    assert len(read_jsonl(log / "checkpoints.jsonl")) == 4


def test_log_dir_ask_without_a_terminal_is_a_clear_error(tmp_path: Path, data: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "tinkerlite", "sl", f"log_path={log}", f"file_path={data}",
         "behavior_if_log_dir_exists=ask"],
        cwd=REPO, env=worker_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc
    assert "already exists" in proc.stderr and "not a terminal" in proc.stderr
    assert "behavior_if_log_dir_exists=resume|delete|raise" in proc.stderr
    assert "starting an embedded local" not in proc.stdout  # it failed before starting any server
