"""One training run's files, read and written through a :class:`~tinkerlite.stores.storage.Storage`
(the cookbook's ``stores.training_store``), in the cookbook's layout::

    config.json  metrics.jsonl  checkpoints.jsonl  timing_spans.jsonl  code.diff
    iteration_000042/{train,eval_<name>}_rollout_summaries.jsonl  iteration_000042/<base>_logtree.json

Metrics and timing are read incrementally (only new bytes); rollouts are cached per iteration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._incremental import IncrementalReader
from .storage import Storage, storage_join

__all__ = ["IterationInfo", "TrainingRunStore"]

logger = logging.getLogger(__name__)

_ITERATION_RE = re.compile(r"^iteration_(\d+)$")


class _Unset:
    """A sentinel that survives pickling."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance


_UNSET = _Unset()


@dataclass
class IterationInfo:
    """What one ``iteration_NNNNNN`` directory holds."""

    iteration: int
    has_train_rollouts: bool = False
    has_train_logtree: bool = False
    eval_labels: list[str] = field(default_factory=list)


class TrainingRunStore:
    """Typed access to one run under ``prefix`` of ``storage`` (pickles while its readers are unbuilt)."""

    def __init__(self, storage: Storage, prefix: str = "") -> None:
        self.storage = storage
        self.prefix = prefix
        self._metrics: IncrementalReader | None = None
        self._timing: IncrementalReader | None = None
        self._config: Any = _UNSET
        self._rollout_cache: dict[str, list[dict[str, Any]]] = {}

    def url(self, path: str = "") -> str:
        """A URI for a path in this run (for logs)."""
        return self.storage.url(self._path(path))

    def _path(self, *parts: str) -> str:
        return storage_join(self.prefix, *parts)

    @staticmethod
    def _iter_dir(iteration: int) -> str:
        return f"iteration_{iteration:06d}"

    def _read_json(self, *parts: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.storage.read(self._path(*parts)))
            return data
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, OSError) as e:
            logger.warning("Failed to read JSON %s: %s", self._path(*parts), e)
            return None

    def _read_jsonl(self, *parts: str) -> list[dict[str, Any]]:
        try:
            data = self.storage.read(self._path(*parts))
        except FileNotFoundError:
            return []
        except OSError as e:
            logger.warning("Failed to read JSONL %s: %s", self._path(*parts), e)
            return []
        records: list[dict[str, Any]] = []
        for line in data.decode("utf-8", errors="replace").splitlines():
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    logger.warning("Skipping malformed line in %s", self._path(*parts))
        return records

    def _read_jsonl_typed(self, from_dict: Callable[[dict[str, Any]], Any], *parts: str) -> list[Any]:
        out = []
        for d in self._read_jsonl(*parts):
            try:
                out.append(from_dict(d))
            except (KeyError, TypeError, ValueError) as e:
                logger.warning("Skipping corrupted record in %s: %s", self._path(*parts), e)
        return out

    def read_config(self) -> dict[str, Any] | None:
        """config.json (cached after the first read)."""
        if self._config is _UNSET:
            self._config = self._read_json("config.json")
        result: dict[str, Any] | None = self._config
        return result

    def _get_metrics(self) -> IncrementalReader:
        if self._metrics is None:
            self._metrics = IncrementalReader(self.storage, self._path("metrics.jsonl"))
        return self._metrics

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every metrics row (only new bytes are read from storage)."""
        reader = self._get_metrics()
        reader.read()
        return reader.records

    def read_new_metrics(self) -> list[dict[str, Any]]:
        """Rows added since the last call."""
        return self._get_metrics().read()

    def metric_keys(self) -> set[str]:
        """Metric names seen so far (``step`` excluded)."""
        return self._get_metrics().known_keys

    @staticmethod
    def _rollout_filename(base_name: str) -> str:
        return f"{base_name}_rollout_summaries.jsonl"

    def read_rollouts(self, iteration: int, base_name: str = "train") -> list[dict[str, Any]]:
        """An iteration's rollout summaries (``<base_name>_rollout_summaries.jsonl``), cached."""
        filename = self._rollout_filename(base_name)
        key = f"{iteration}/{filename}"
        if key not in self._rollout_cache:
            self._rollout_cache[key] = self._read_jsonl(self._iter_dir(iteration), filename)
        return self._rollout_cache[key]

    def read_single_rollout(
        self, iteration: int, group_idx: int, traj_idx: int, base_name: str = "train"
    ) -> dict[str, Any] | None:
        """One rollout by group and trajectory index."""
        for r in self.read_rollouts(iteration, base_name):
            if r.get("group_idx") == group_idx and r.get("traj_idx") == traj_idx:
                return r
        return None

    def read_checkpoints(self) -> list[dict[str, Any]]:
        """checkpoints.jsonl as dicts."""
        return self._read_jsonl("checkpoints.jsonl")

    def read_checkpoint_records(self) -> list[Any]:
        """checkpoints.jsonl as ``CheckpointRecord`` objects (corrupt lines skipped)."""
        from ..checkpoint_utils import CheckpointRecord

        return self._read_jsonl_typed(CheckpointRecord.from_dict, "checkpoints.jsonl")

    def _get_timing(self) -> IncrementalReader:
        if self._timing is None:
            self._timing = IncrementalReader(self.storage, self._path("timing_spans.jsonl"))
        return self._timing

    def read_timing(self) -> list[dict[str, Any]]:
        """Every timing record (incremental)."""
        reader = self._get_timing()
        reader.read()
        return reader.records

    def read_logtree(self, iteration: int, base_name: str = "train") -> dict[str, Any] | None:
        """An iteration's ``<base_name>_logtree.json``, or None."""
        return self._read_json(self._iter_dir(iteration), f"{base_name}_logtree.json")

    def list_logtrees(self, iteration: int) -> list[str]:
        """The logtree base names of an iteration."""
        items = self.storage.list_dir(self._path(self._iter_dir(iteration)))
        return sorted(n[: -len("_logtree.json")] for n in items if n.endswith("_logtree.json"))

    def list_iterations(self) -> list[IterationInfo]:
        """Every iteration directory, in order, with what it holds."""
        out: list[IterationInfo] = []
        for child in self.storage.list_dir(self._path()):
            match = _ITERATION_RE.match(child)
            if not match:
                continue
            info = IterationInfo(iteration=int(match.group(1)))
            for f in self.storage.list_dir(self._path(child)):
                if f == "train_rollout_summaries.jsonl":
                    info.has_train_rollouts = True
                elif f == "train_logtree.json":
                    info.has_train_logtree = True
                elif f.startswith("eval_") and f.endswith("_rollout_summaries.jsonl"):
                    info.eval_labels.append(f[len("eval_") : -len("_rollout_summaries.jsonl")])
            out.append(info)
        out.sort(key=lambda x: x.iteration)
        return out

    def _write_json(self, data: dict[str, Any], *parts: str) -> None:
        self.storage.write(self._path(*parts), json.dumps(data, indent=2).encode("utf-8"))

    def _append_jsonl(self, record: dict[str, Any], *parts: str) -> None:
        self.storage.append(self._path(*parts), (json.dumps(record) + "\n").encode("utf-8"))

    def write_config(self, config: dict[str, Any]) -> None:
        """Replace config.json."""
        self._write_json(config, "config.json")
        self._config = config

    def write_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Append ``{"step": step, **metrics}`` (no ``step`` key when None)."""
        record: dict[str, Any] = {"step": step} if step is not None else {}
        record.update(metrics)
        self._append_jsonl(record, "metrics.jsonl")

    def truncate_metrics(self, from_step: int) -> int:
        """Drop rows with an integer ``step >= from_step`` (resume), keeping the original file as
        ``metrics.jsonl.pre_resume_<from_step:06d>``; returns how many were dropped."""
        path = self._path("metrics.jsonl")
        if not self.storage.exists(path):
            return 0
        raw = self.storage.read(path)
        kept: list[bytes] = []
        dropped = 0
        for line in raw.splitlines(keepends=True):
            try:
                step = json.loads(line).get("step")
            except (ValueError, AttributeError):
                step = None
            if isinstance(step, int) and step >= from_step:
                dropped += 1
            else:
                kept.append(line if line.endswith(b"\n") else line + b"\n")
        if dropped == 0:
            return 0
        self.storage.write(self._path(f"metrics.jsonl.pre_resume_{from_step:06d}"), raw)
        self.storage.write(path, b"".join(kept))
        self._metrics = None
        return dropped

    def write_timing_spans(self, step: int, spans: list[dict[str, Any]]) -> None:
        """Append ``{"step", "spans"}`` (nothing for no spans)."""
        if spans:
            self._append_jsonl({"step": step, "spans": spans}, "timing_spans.jsonl")

    def write_checkpoint(self, record: dict[str, Any]) -> None:
        """Append a checkpoint record (e.g. ``CheckpointRecord.to_dict()``)."""
        self._append_jsonl(record, "checkpoints.jsonl")

    def write_rollouts(self, iteration: int, records: list[dict[str, Any]], base_name: str = "train") -> None:
        """Replace an iteration's rollout summaries."""
        filename = self._rollout_filename(base_name)
        lines = [json.dumps(r) for r in records]
        data = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        self.storage.write(self._path(self._iter_dir(iteration), filename), data)
        self._rollout_cache.pop(f"{iteration}/{filename}", None)

    def write_logtree(self, iteration: int, data: dict[str, Any], base_name: str = "train") -> None:
        """Replace an iteration's logtree JSON."""
        self._write_json(data, self._iter_dir(iteration), f"{base_name}_logtree.json")

    def write_code_diff(self, diff: str) -> None:
        """Replace code.diff."""
        self.storage.write(self._path("code.diff"), diff.encode("utf-8"))

    async def aread_config(self) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.read_config)

    async def aread_metrics(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read_metrics)

    async def aread_new_metrics(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read_new_metrics)

    async def aread_rollouts(self, iteration: int, base_name: str = "train") -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read_rollouts, iteration, base_name)

    async def aread_checkpoints(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read_checkpoints)

    async def aread_timing(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read_timing)

    async def aread_logtree(self, iteration: int, base_name: str = "train") -> dict[str, Any] | None:
        return await asyncio.to_thread(self.read_logtree, iteration, base_name)

    async def awrite_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        await asyncio.to_thread(self.write_metrics, metrics, step)

    async def awrite_checkpoint(self, record: dict[str, Any]) -> None:
        await asyncio.to_thread(self.write_checkpoint, record)
