"""stores (storage, training_store, registry) against the cookbook 0.6.1's own modules: the same sequence
of writes through both gives byte-identical directory trees, and the same reads give the same answers.

The official modules are executed at test time from the pinned sdist; their only package imports are each
other (and checkpoint_utils, which these operations do not reach)."""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from tests.official_env import official_source
from tests.official_exec import exec_module_file, modules_swapped
from tinkerlite import stores as ours
from tinkerlite.stores import LocalStorage, RunRegistry, TrainingRunStore, storage_from_uri, storage_join


@pytest.fixture(scope="module")
def official() -> types.SimpleNamespace:
    root = official_source("cookbook") / "tinker_cookbook" / "stores"
    names = {
        "storage": "tinker_cookbook.stores.storage",
        "_incremental": "tinker_cookbook.stores._incremental",
        "training_store": "tinker_cookbook.stores.training_store",
        "registry": "tinker_cookbook.stores.registry",
    }
    parents = {p: types.ModuleType(p) for p in ("tinker_cookbook", "tinker_cookbook.stores")}
    with modules_swapped(parents, also=names.values()):
        out = {short: exec_module_file(root / f"{short}.py", full, register=True) for short, full in names.items()}
    return types.SimpleNamespace(**out)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _exercise(storage: Any, store_cls: Any) -> list[Any]:
    """Writes and reads through one implementation; returns everything read."""
    seen: list[Any] = []
    run = store_cls(storage, "runs/exp1")
    run.write_config({"model_name": "m", "loss_fn": "importance_sampling", "nested": {"a": [1, 2]}})
    for step in range(5):
        run.write_metrics({"loss": 1.0 / (step + 1), "tokens/trained": step * 10}, step=step)
    run.write_metrics({"summary": True})
    seen += [run.read_metrics(), sorted(run.metric_keys())]
    run.write_metrics({"loss": 0.1}, step=5)
    seen.append(run.read_new_metrics())
    seen.append(run.truncate_metrics(3))
    seen += [run.read_metrics(), run.truncate_metrics(99)]
    run.write_timing_spans(0, [{"name": "sample", "duration": 1.5, "wall_start": 0.0, "wall_end": 1.5}])
    run.write_timing_spans(1, [])
    seen.append(run.read_timing())
    run.write_checkpoint({"name": "000002", "batch": 2, "state_path": "tinker://x/state"})
    run.write_checkpoint({"name": "final", "batch": 4, "final": True})
    seen.append(run.read_checkpoints())
    run.write_rollouts(2, [{"group_idx": 0, "traj_idx": 1, "total_reward": 1.0}, {"group_idx": 1, "traj_idx": 0}])
    run.write_rollouts(2, [], base_name="eval_gsm8k")
    run.write_rollouts(10, [{"group_idx": 0, "traj_idx": 0}], base_name="eval_math")
    run.write_logtree(2, {"title": "t", "children": []})
    run.write_code_diff("diff --git a b\n")
    seen += [run.read_rollouts(2), run.read_single_rollout(2, 0, 1), run.read_single_rollout(2, 5, 5)]
    seen += [run.read_logtree(2), run.read_logtree(3), run.list_logtrees(2)]
    seen.append([vars(i) for i in run.list_iterations()])
    seen += [run.read_config(), run.url("metrics.jsonl").endswith("runs/exp1/metrics.jsonl")]
    seen.append(asyncio.run(run.aread_checkpoints()))
    storage.write("loose/config.json", b"{}")
    storage.write("runs/not_a_run/notes.txt", b"x")
    storage.append("a/b.log", b"one\n")
    storage.append("a/b.log", b"two\n")
    seen += [storage.read_range("a/b.log", 2, 5), storage.read_range("a/b.log", 4), storage.list_dir("a")]
    seen += [storage.exists("a/b.log"), storage.stat("nope"), storage.list_dir("missing")]
    storage.remove("a/b.log")
    storage.remove_dir("a")
    seen.append(storage.exists("a"))
    return seen


def test_same_files_and_reads_as_the_cookbook(official: Any, tmp_path: Path) -> None:
    ours_seen = _exercise(LocalStorage(tmp_path / "ours"), TrainingRunStore)
    theirs_seen = _exercise(
        official.storage.LocalStorage(tmp_path / "theirs"), official.training_store.TrainingRunStore
    )
    assert ours_seen == theirs_seen
    assert _tree(tmp_path / "ours") == _tree(tmp_path / "theirs")
    assert not [p for p in (tmp_path / "ours").rglob("*.tmp")]


def test_registry_matches_the_cookbook(official: Any, tmp_path: Path) -> None:
    for base, storage_cls, store_cls in [
        ("ours", LocalStorage, TrainingRunStore),
        ("theirs", official.storage.LocalStorage, official.training_store.TrainingRunStore),
    ]:
        s = storage_cls(tmp_path / base / "a")
        for run_id, config in [("rl1", {"loss_fn": "ppo"}), ("sl1", {"num_epochs": 1}), ("dpo1", {"dpo_beta": 0.1}),
                               ("x", {"dataset_builder": {"__type__": "MySupervisedBuilder"}})]:
            st = store_cls(s, run_id)
            st.write_config(config)
            st.write_metrics({"l": 1}, step=0)
        store_cls(s, "sl1").write_checkpoint({"name": "final", "final": True})
        old = tmp_path / base / "a" / "sl1" / "metrics.jsonl"
        os.utime(old, (time.time() - 1000, time.time() - 1000))
        store_cls(s, "rl1").write_rollouts(3, [{}])
        s2 = storage_cls(tmp_path / base / "b")
        store_cls(s2, "rl1").write_config({"loss_fn": "ppo"})
    mine = RunRegistry([LocalStorage(tmp_path / "ours" / "a"), LocalStorage(tmp_path / "ours" / "b")])
    theirs = official.registry.RunRegistry(
        [official.storage.LocalStorage(tmp_path / "theirs" / d) for d in ("a", "b")]
    )

    def view(reg: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in vars(r).items() if k != "last_updated"} for r in reg.refresh()]

    assert view(mine) == view(theirs)
    sl1, rl1, rl1_b = mine.get_run("sl1"), mine.get_run("rl1"), mine.get_run("b--rl1")
    assert sl1 is not None and rl1 is not None and rl1_b is not None
    assert (sl1.status, rl1.status, rl1_b.status) == ("completed", "running", "idle")
    assert (rl1.training_type, sl1.training_type, rl1.iteration_count) == ("rl", "sl", 1)
    assert mine.get_run("b--rl1") is not None and mine.storage_for("b--rl1").url().endswith("/b")
    assert mine.get_training_store("rl1").read_config() == {"loss_fn": "ppo"}
    assert mine.get_eval_store() is None


def test_storage_helpers_match(official: Any, tmp_path: Path) -> None:
    for parts in [(), ("",), ("a/", "/b/", "c"), ("a", "..", "b"), ("./x", "y/")]:
        assert storage_join(*parts) == official.storage.storage_join(*parts)
    s = LocalStorage(tmp_path / "r")
    with pytest.raises(ValueError, match="escapes storage root"):
        s.write("../evil", b"x")
    assert s.url("m.jsonl") == official.storage.LocalStorage(tmp_path / "r").url("m.jsonl")
    assert isinstance(storage_from_uri(f"file://{tmp_path}/u"), LocalStorage)
    assert isinstance(s, ours.Storage) and isinstance(s, ours.AsyncStorage)
    clone = pickle.loads(pickle.dumps(TrainingRunStore(s, "p")))
    assert clone.storage.root == s.root


def test_cloud_uri_without_fsspec_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match=r"tinkerlite\[cloud\]"):
        storage_from_uri("s3://bucket/runs")


def test_fsspec_backend_on_memory_filesystem(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    s = storage_from_uri("memory://bucket/root")
    s.write("run/metrics.jsonl", b'{"step": 0}\n')
    s.append("run/metrics.jsonl", b'{"step": 1}\n')
    assert TrainingRunStore(s, "run").read_metrics() == [{"step": 0}, {"step": 1}]
    assert s.list_dir("run") == ["metrics.jsonl"] and s.read_range("run/metrics.jsonl", 2, 4) == b"step"
    assert fsspec is not None


def test_fsspec_backend_reads_as_the_cookbook(official: Any) -> None:
    fsspec = pytest.importorskip("fsspec")
    mine = _exercise(storage_from_uri("memory://h10/ours"), TrainingRunStore)
    fs, path = fsspec.core.url_to_fs("memory://h10/theirs")
    with official.storage.FsspecStorage(fs, path) as theirs_storage:
        theirs = _exercise(theirs_storage, official.training_store.TrainingRunStore)
    assert mine == theirs
