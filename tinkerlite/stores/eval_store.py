"""Evaluation runs kept on disk and compared across checkpoints (the cookbook's ``stores.eval_store``).

Layout under the store's root: ``runs.jsonl`` (one line per created run), ``runs/<run_id>/metadata.json``,
and per benchmark ``runs/<run_id>/<benchmark>/{result.json,trajectories.jsonl}`` — the same files
``run_benchmarks(..., BenchmarkConfig(save_dir=store.run_dir(run_id)))`` writes. The cookbook's store can
also sit on object storage through fsspec; tinkerlite's takes a local path (anything else is refused).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..eval.benchmarks import _results as _res
from ..eval.benchmarks._types import BenchmarkResult, StoredTrajectory
from ..utils.files import atomic_write_bytes
from .storage import LocalStorage

__all__ = ["EvalStore", "RunMetadata"]

logger = logging.getLogger(__name__)


@dataclass
class RunMetadata:
    """One evaluation run: which model/checkpoint, which benchmarks, and (after finalize) their scores."""

    run_id: str
    model_name: str
    checkpoint_path: str | None
    checkpoint_name: str | None
    benchmarks: list[str]
    timestamp: str
    config: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunMetadata:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class EvalStore:
    """Runs under ``storage_or_path`` (a local directory; ``prefix`` is a sub-folder)."""

    def __init__(self, storage_or_path: str | Path | LocalStorage, prefix: str = "") -> None:
        if isinstance(storage_or_path, LocalStorage):  # a local directory either way
            storage_or_path = storage_or_path.root
        if not isinstance(storage_or_path, (str, Path)):
            raise TypeError(
                f"EvalStore takes a local path in tinkerlite (got {type(storage_or_path).__name__}); "
                "object-store backends need fsspec, which tinkerlite does not bundle"
            )
        self.root = _res.storage_dir(str(storage_or_path))
        self.prefix = prefix

    def _path(self, *parts: str) -> Path:
        return self.root.joinpath(*(p for p in (self.prefix, *parts) if p))

    def url(self, path: str = "") -> str:
        return self._path(path).as_uri() if self._path(path).is_absolute() else str(self._path(path))

    def _read_json(self, *parts: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._path(*parts).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, OSError) as e:
            logger.warning("Failed to read %s: %s", self._path(*parts), e)
            return None
        return data

    def _write_json(self, data: dict[str, Any], *parts: str) -> None:
        path = self._path(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, indent=2).encode("utf-8"))

    def create_run(
        self,
        model_name: str,
        benchmarks: list[str],
        checkpoint_path: str | None = None,
        checkpoint_name: str | None = None,
        config: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        """Record a new run (id ``<checkpoint or base>_<time>_<6 hex>`` unless given) and return its id."""
        now = datetime.now()
        run_id = run_id or f"{checkpoint_name or 'base'}_{now:%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"
        meta = RunMetadata(
            run_id, model_name, checkpoint_path, checkpoint_name, list(benchmarks), now.isoformat(), config or {}
        )
        self._write_json(meta.to_dict(), "runs", run_id, "metadata.json")
        index = self._path("runs.jsonl")
        with open(index, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {"run_id": run_id, "timestamp": meta.timestamp, "model": model_name, "checkpoint": checkpoint_name}
                )
                + "\n"
            )
        logger.info("Created eval run: %s", run_id)
        return run_id

    def run_dir(self, run_id: str) -> str:
        """The directory to pass as ``BenchmarkConfig(save_dir=...)`` for this run."""
        return str(self._path("runs", run_id))

    def finalize_run(self, run_id: str) -> RunMetadata:
        """Copy each benchmark's score into the run's metadata."""
        meta = self.read_run(run_id)
        for b in meta.benchmarks:
            r = self._read_json("runs", run_id, b, "result.json")
            if r:
                meta.scores[b] = r.get("score", 0.0)
        self._write_json(meta.to_dict(), "runs", run_id, "metadata.json")
        return meta

    def list_runs(self) -> list[RunMetadata]:
        """Every run, newest id first."""
        runs_dir = self._path("runs")
        out = []
        for name in sorted(
            (p.name for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.is_dir() else [], reverse=True
        ):
            meta = self._read_json("runs", name, "metadata.json")
            if meta:
                try:
                    out.append(RunMetadata.from_dict(meta))
                except (KeyError, TypeError, ValueError) as e:
                    logger.warning("Skipping run %s: %s", name, e)
        return out

    def read_run(self, run_id: str) -> RunMetadata:
        meta = self._read_json("runs", run_id, "metadata.json")
        if meta is None:
            raise FileNotFoundError(f"Run {run_id} not found")
        return RunMetadata.from_dict(meta)

    def list_benchmarks(self, run_id: str) -> list[str]:
        d = self._path("runs", run_id)
        return sorted(p.name for p in d.iterdir() if (p / "result.json").is_file()) if d.is_dir() else []

    def read_result(self, run_id: str, benchmark: str) -> BenchmarkResult | None:
        try:
            return _res.load_result(self.run_dir(run_id), benchmark)
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            logger.warning("Failed to parse result %s/%s: %s", run_id, benchmark, e)
            return None

    def read_trajectories(
        self,
        run_id: str,
        benchmark: str,
        *,
        correct_only: bool = False,
        incorrect_only: bool = False,
        errors_only: bool = False,
    ) -> list[StoredTrajectory]:
        return _res.load_trajectories(self.run_dir(run_id), benchmark, correct_only, incorrect_only, errors_only)

    def read_single_trajectory(self, run_id: str, benchmark: str, idx: int) -> StoredTrajectory | None:
        return next((t for t in self.read_trajectories(run_id, benchmark) if t.idx == idx), None)

    def read_summary(self, run_id: str) -> dict[str, Any] | None:
        return self._read_json("runs", run_id, "summary.json")

    def write_result(self, run_id: str, result: BenchmarkResult) -> None:
        _res.save_result(self.run_dir(run_id), result)

    def write_trajectory(self, run_id: str, benchmark: str, traj: StoredTrajectory) -> None:
        _res.append_trajectory(self.run_dir(run_id), dataclasses.replace(traj, benchmark=benchmark))

    def write_summary(self, run_id: str, results: dict[str, BenchmarkResult]) -> None:
        self._write_json(
            {
                n: {
                    "score": r.score,
                    "num_examples": r.num_examples,
                    "num_correct": r.num_correct,
                    "num_errors": r.num_errors,
                }
                for n, r in results.items()
            },
            "runs",
            run_id,
            "summary.json",
        )

    def delete_run(self, run_id: str) -> None:
        """Remove the run's folder (``runs.jsonl`` keeps its history line)."""
        shutil.rmtree(self._path("runs", run_id), ignore_errors=True)

    async def alist_runs(self) -> list[RunMetadata]:
        return await asyncio.to_thread(self.list_runs)

    async def aread_trajectories(self, run_id: str, benchmark: str, **kw: Any) -> list[StoredTrajectory]:
        return await asyncio.to_thread(self.read_trajectories, run_id, benchmark, **kw)

    async def aread_result(self, run_id: str, benchmark: str) -> BenchmarkResult | None:
        return await asyncio.to_thread(self.read_result, run_id, benchmark)
