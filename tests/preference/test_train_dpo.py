"""DPO against the local server: it learns a held-out preference, and a resumed run continues exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

from tests.utils.local_service import service
from tinkerlite.client.service_client import ServiceClient
from tinkerlite.preference.cli import main as dpo_main
from tinkerlite.preference.dpo_datasets import DPODatasetBuilderFromComparisons
from tinkerlite.preference.synthetic import make_case_preference_set
from tinkerlite.preference.train_dpo import Config, run
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig
from tinkerlite.utils.files import read_jsonl

__all__ = ["service"]  # the fixture, imported


def _config(log_path: Path, train: list[Any], test: list[Any] | None, batch_size: int, **kw: Any) -> Config:
    cc = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer="tinkerlite/tiny-chat",
        renderer_name="role_colon",
        max_length=64,
        batch_size=batch_size,
    )
    builder = DPODatasetBuilderFromComparisons(
        common_config=cc, comparison_builder=lambda: (train, test), tie_policy="skip"
    )
    defaults: dict[str, Any] = dict(learning_rate=2e-3, dpo_beta=0.1, lora_rank=8, save_every=0, show_progress=False)
    defaults.update(kw)
    return Config(
        log_path=str(log_path),
        model_name="tinkerlite/tiny-chat",
        recipe_name="dpo",
        dataset_builder=builder,
        **defaults,
    )


@pytest.mark.slow
def test_dpo_raises_held_out_preference_accuracy(service: ServiceClient, tmp_path: Path) -> None:
    train = make_case_preference_set(320, seed=1, num_ties=4)
    test = make_case_preference_set(64, seed=2)
    cfg = _config(tmp_path, train, test, 16, max_steps=16, eval_every=100, lr_schedule="constant")
    summary = run(cfg, service_client=service)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    before = rows[0]["test/pref_accuracy"]  # step 0, before any update: the policy ignores the instruction
    after = summary["test/pref_accuracy"]
    assert summary["steps_run"] == 16
    assert 0.3 <= before <= 0.7, before
    assert after >= 0.9, (before, after)
    assert after - before >= 0.25
    assert summary["test/accuracy"] >= 0.9  # the implicit reward ranks held-out pairs correctly
    assert summary["last"]["dpo_loss"] < summary["first"]["dpo_loss"] - 0.2
    assert rows[0]["dpo_loss"] == pytest.approx(0.6931471805599453)  # policy == reference at step 0
    assert rows[0]["num_ties_skipped"] == 4  # tie_policy="skip": dropped and counted
    for key in ("dpo_loss", "accuracy", "margin", "chosen_reward", "rejected_reward", "learning_rate", "num_pairs"):
        assert key in rows[1], key


@pytest.mark.slow
def test_resume_continues_exactly_and_keeps_the_reference(service: ServiceClient, tmp_path: Path) -> None:
    train = make_case_preference_set(24, seed=4)
    full_dir, crash_dir = tmp_path / "full", tmp_path / "crash"
    common: dict[str, Any] = dict(max_steps=5, save_every=2, eval_every=0, num_epochs=2)
    full = run(_config(full_dir, train, None, 4, **common), service_client=service)
    first = run(_config(crash_dir, train, None, 4, **common), service_client=service)
    assert full["steps_run"] == first["steps_run"] == 5
    # Simulate a crash after step 4 was checkpointed: drop the final record and later metrics rows.
    ck = crash_dir / "checkpoints.jsonl"
    records = [json.loads(x) for x in ck.read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 5]
    ck.write_text("".join(json.dumps(r) + "\n" for r in records[:1]))  # keep only step 2
    resumed = run(_config(crash_dir, train, None, 4, **common), service_client=service)
    assert resumed["steps_run"] == 3
    assert resumed["reference_path"] == first["reference_path"]  # same frozen reference, not a new snapshot
    rows = read_jsonl(crash_dir / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4]
    full_rows = read_jsonl(full_dir / "metrics.jsonl")
    for a, b in zip(rows, full_rows, strict=True):
        for key in ("dpo_loss", "accuracy", "margin", "learning_rate"):
            assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-9), (a["step"], key)
    # A pinned reference (here: the trained weights of the full run) replaces the initial-policy snapshot.
    pinned_dir = tmp_path / "pinned"
    pinned = run(
        _config(pinned_dir, train, None, 4, max_steps=1, reference_model_path=full["sampler_path"]),
        service_client=service,
    )
    assert pinned["reference_path"] == full["sampler_path"]
    assert json.loads((pinned_dir / "reference.json").read_text())["sampler_path"] == full["sampler_path"]
    assert read_jsonl(pinned_dir / "metrics.jsonl")[0]["dpo_loss"] != pytest.approx(0.6931471805599453)


def test_cli_rejects_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dpo_main(["tie_policy=drop", f"log_path={tmp_path / 'x'}"]) == 2
    assert "tie_policy" in capsys.readouterr().err
    assert dpo_main(["dpo_betta=0.2"]) == 2
    assert "did you mean dpo_beta" in capsys.readouterr().err
    assert dpo_main(["--help"]) == 0
    assert "comparison JSONL" in capsys.readouterr().out


def test_cli_reports_bad_file_with_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"comparison": {"prompt_conversation": [], "completion_A": [], "completion_B": []}, "label": "A"}\n'
    )
    rc = dpo_main([f"file_path={bad}", f"log_path={tmp_path / 'run'}", "base_url=http://127.0.0.1:9"])
    assert rc == 2
    assert f"{bad}:1: comparison.prompt_conversation: is empty" in capsys.readouterr().err
