"""What a crash can leave in checkpoints.jsonl / metrics.jsonl, and how the next writer copes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinkerlite.checkpoint_utils import get_last_checkpoint
from tinkerlite.utils.files import append_jsonl, read_jsonl
from tinkerlite.utils.ml_log import MetricsLogger


def test_torn_last_line_is_ignored_then_cut_before_the_next_append(tmp_path: Path) -> None:
    p = tmp_path / "checkpoints.jsonl"
    append_jsonl(p, {"name": "000001", "state_path": "tinker://r/weights/000001", "step": 1})
    with open(p, "ab") as f:
        f.write(b'{"name": "000002", "state_pa')  # the process died inside write()
    assert get_last_checkpoint(tmp_path).name == "000001"  # type: ignore[union-attr]
    append_jsonl(p, {"name": "000003", "state_path": "tinker://r/weights/000003", "step": 3})
    assert [r["name"] for r in read_jsonl(p)] == ["000001", "000003"]
    assert p.read_bytes().endswith(b"\n") and p.read_bytes().count(b"\n") == 2


def test_a_file_that_is_only_a_torn_line(tmp_path: Path) -> None:
    p = tmp_path / "m.jsonl"
    p.write_bytes(b'{"step": 0, "lo')
    assert read_jsonl(p) == []
    append_jsonl(p, {"step": 0})
    assert read_jsonl(p) == [{"step": 0}]


def test_corruption_in_the_middle_is_an_error_not_a_silent_skip(tmp_path: Path) -> None:
    p = tmp_path / "m.jsonl"
    p.write_bytes(b'{"step": 0}\n{"step": 1, "x\n{"step": 2}\n')
    with pytest.raises(json.JSONDecodeError):
        read_jsonl(p)


def test_truncate_metrics_keeps_earlier_rows_and_a_backup(tmp_path: Path) -> None:
    ml = MetricsLogger(tmp_path)
    for step in range(6):
        ml.log_metrics({"train_mean_nll": float(step)}, step=step)
    with open(ml.metrics_path, "ab") as f:
        f.write(b'{"step": 6, "tr')
    assert ml.truncate_metrics(4) == 2
    assert [r["step"] for r in read_jsonl(ml.metrics_path)] == [0, 1, 2, 3]
    assert (tmp_path / "metrics.jsonl.pre_resume_4").exists()
    ml.log_metrics({"train_mean_nll": 4.5}, step=4)
    assert [r["step"] for r in read_jsonl(ml.metrics_path)] == [0, 1, 2, 3, 4]


def test_json_logger_store(tmp_path: Path) -> None:
    """``JsonLogger(log_dir, store=None)`` and ``.store``, as the cookbook's: a given store takes every write;
    without one the files are written directly and ``store`` reads them back."""
    from tinkerlite.stores.storage import LocalStorage
    from tinkerlite.stores.training_store import TrainingRunStore
    from tinkerlite.utils.ml_log import JsonLogger, MultiplexLogger, PrettyPrintLogger

    direct = JsonLogger(tmp_path / "direct")
    direct.log_hparams({"lr": 0.1})
    direct.log_metrics({"loss": 2.0}, step=0)
    assert direct.store.read_config() == {"lr": 0.1}
    assert direct.store.read_metrics() == [{"step": 0, "loss": 2.0}]
    store = TrainingRunStore(LocalStorage(str(tmp_path / "elsewhere")))
    routed = JsonLogger(tmp_path / "unused", store=store)
    routed.log_hparams({"lr": 0.2})
    for step in range(3):
        routed.log_metrics({"loss": float(step)}, step=step)
    assert routed.truncate_metrics(1) == 2
    assert routed.store is store and not (tmp_path / "unused").exists()
    assert store.read_config() == {"lr": 0.2} and store.read_metrics() == [{"step": 0, "loss": 0.0}]
    assert PrettyPrintLogger().store is None
    assert MultiplexLogger([PrettyPrintLogger(), routed]).store is store
    assert MultiplexLogger([PrettyPrintLogger()]).store is None
