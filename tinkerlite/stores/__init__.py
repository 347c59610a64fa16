"""Run data access (the cookbook's ``stores``): byte-level ``Storage`` (a local directory, or any fsspec
filesystem with the ``cloud`` extra), ``TrainingRunStore`` for one training run's files, ``RunRegistry`` to
find runs, and ``EvalStore`` for evaluation runs (loaded on first use: it imports ``tinkerlite.eval``, which
imports this package)."""

from typing import Any

from ._incremental import IncrementalReader
from .registry import RunInfo, RunRegistry
from .storage import AsyncStorage, FsspecStorage, LocalStorage, Storage, StorageStat, storage_from_uri, storage_join
from .training_store import TrainingRunStore

__all__ = [
    "AsyncStorage",
    "EvalStore",
    "FsspecStorage",
    "IncrementalReader",
    "LocalStorage",
    "RunInfo",
    "RunMetadata",
    "RunRegistry",
    "Storage",
    "StorageStat",
    "TrainingRunStore",
    "storage_from_uri",
    "storage_join",
]


def __getattr__(name: str) -> Any:
    if name in ("EvalStore", "RunMetadata"):
        from .. import eval as _eval  # noqa: F401  # eval imports eval_store; importing it first would cycle
        from . import eval_store

        return getattr(eval_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
