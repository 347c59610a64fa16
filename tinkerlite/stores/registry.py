"""Finding training runs across storages (the cookbook's ``stores.registry``): a run is a directory (the
root or one level below it) holding ``metrics.jsonl`` or ``config.json``; its status comes from the
metrics file's age (< 120 s: running) and a final checkpoint record (completed)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Literal

from .storage import LocalStorage, Storage, storage_join
from .training_store import TrainingRunStore

__all__ = ["RunInfo", "RunRegistry", "Status", "TrainingType"]

_ITERATION_RE = re.compile(r"^iteration_(\d+)$")

Status = Literal["running", "completed", "idle"]
TrainingType = Literal["rl", "sl", "dpo"]
_ACTIVE_THRESHOLD_SECONDS = 120


class _EvalUnset:
    """A sentinel that survives pickling."""

    _instance: _EvalUnset | None = None

    def __new__(cls) -> _EvalUnset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance


_DEFAULT_EVAL_PREFIXES: tuple[str, ...] = ("eval", "eval_store", "")


@dataclass(frozen=True)
class RunInfo:
    """A discovered run."""

    run_id: str
    prefix: str
    has_config: bool
    has_metrics: bool
    has_checkpoints: bool
    has_timing: bool
    iteration_count: int
    status: Status
    last_updated: float | None
    training_type: TrainingType | None


class RunRegistry:
    """Runs found in one or more storages, each routed to the storage it came from."""

    _EVAL_UNSET = _EvalUnset()

    def __init__(self, storages: list[Storage], eval_prefixes: tuple[str, ...] = _DEFAULT_EVAL_PREFIXES) -> None:
        self._storages = storages
        self._eval_prefixes = eval_prefixes
        self._runs: dict[str, RunInfo] | None = None
        self._run_storage: dict[str, Storage] = {}
        self._training_stores: dict[str, TrainingRunStore] = {}
        self._eval_store: Any = RunRegistry._EVAL_UNSET

    @property
    def storage_count(self) -> int:
        return len(self._storages)

    @property
    def primary_storage(self) -> Storage:
        return self._storages[0]

    def storage_for(self, run_id: str) -> Storage:
        """The storage that holds ``run_id`` (the primary one when unknown)."""
        return self._run_storage.get(run_id) or self._storages[0]

    def refresh(self) -> list[RunInfo]:
        """Re-scan every storage; a run id seen twice is prefixed ``<storage dir>--``."""
        runs: dict[str, RunInfo] = {}
        self._run_storage.clear()
        self._training_stores.clear()
        self._eval_store = RunRegistry._EVAL_UNSET
        for storage in self._storages:
            source = storage.url().rstrip("/").rsplit("/", 1)[-1]
            for run in _discover_runs(storage):
                uid = f"{source}--{run.run_id}" if run.run_id in runs else run.run_id
                runs[uid] = run
                self._run_storage[uid] = storage
        self._runs = runs
        return list(runs.values())

    def get_runs(self) -> list[RunInfo]:
        if self._runs is None:
            self.refresh()
        assert self._runs is not None
        return list(self._runs.values())

    def get_run(self, run_id: str) -> RunInfo | None:
        if self._runs is None:
            self.refresh()
        assert self._runs is not None
        return self._runs.get(run_id)

    def get_training_store(self, run_id: str) -> TrainingRunStore:
        if run_id not in self._training_stores:
            run = self.get_run(run_id)
            self._training_stores[run_id] = TrainingRunStore(self.storage_for(run_id), run.prefix if run else "")
        return self._training_stores[run_id]

    def get_eval_store(self) -> Any | None:
        """The EvalStore of the first ``<eval prefix>/runs.jsonl`` found (cached), or None."""
        if self._eval_store is not RunRegistry._EVAL_UNSET:
            return self._eval_store
        for storage in self._storages:
            for prefix in self._eval_prefixes:
                if storage.exists(storage_join(prefix, "runs.jsonl")):
                    from .eval_store import EvalStore

                    if isinstance(storage, LocalStorage):
                        self._eval_store = EvalStore(storage, prefix)
                        return self._eval_store
                    break  # tinkerlite's EvalStore is local-only
        self._eval_store = None
        return None


def _discover_runs(storage: Storage, root_prefix: str = "") -> list[RunInfo]:
    """The root (when it is a run) or its direct children that are runs; never deeper."""
    if _is_run_dir(storage, root_prefix):
        name = root_prefix.rstrip("/").rsplit("/", 1)[-1] if root_prefix else "root"
        return [_build_run_info(storage, name, root_prefix)]
    runs: list[RunInfo] = []
    for child in sorted(storage.list_dir(root_prefix)):
        prefix = storage_join(root_prefix, child) if root_prefix else child
        if _is_run_dir(storage, prefix):
            runs.append(_build_run_info(storage, child, prefix))
    return runs


def _is_run_dir(storage: Storage, prefix: str) -> bool:
    return storage.exists(storage_join(prefix, "metrics.jsonl")) or storage.exists(storage_join(prefix, "config.json"))


def _detect_status(store: TrainingRunStore) -> tuple[Status, float | None]:
    stat = store.storage.stat(storage_join(store.prefix, "metrics.jsonl"))
    if stat is None:
        return "idle", None
    if time.time() - stat.mtime < _ACTIVE_THRESHOLD_SECONDS:
        return "running", stat.mtime
    if any(ckpt.get("final") for ckpt in store.read_checkpoints()):
        return "completed", stat.mtime
    return "idle", stat.mtime


def _infer_training_type(store: TrainingRunStore) -> TrainingType | None:
    config = store.read_config()
    if config is None:
        return None
    if "dpo_beta" in config:
        return "dpo"
    if "loss_fn" in config:
        return "rl"
    if "num_epochs" in config:
        return "sl"
    db = config.get("dataset_builder")
    if isinstance(db, dict):
        dt = db.get("__type__", "")
        if "RL" in dt:
            return "rl"
        if "Supervised" in dt or "SL" in dt:
            return "sl"
    return None


def _build_run_info(storage: Storage, run_id: str, prefix: str) -> RunInfo:
    store = TrainingRunStore(storage, prefix)
    status, last_updated = _detect_status(store)
    return RunInfo(
        run_id=run_id,
        prefix=prefix,
        has_config=storage.exists(storage_join(prefix, "config.json")),
        has_metrics=storage.exists(storage_join(prefix, "metrics.jsonl")),
        has_checkpoints=storage.exists(storage_join(prefix, "checkpoints.jsonl")),
        has_timing=storage.exists(storage_join(prefix, "timing_spans.jsonl")),
        iteration_count=sum(1 for c in storage.list_dir(prefix) if _ITERATION_RE.match(c)),
        status=status,
        last_updated=last_updated,
        training_type=_infer_training_type(store),
    )
