"""Benchmark results on disk (the cookbook's layout) and what can be done with them offline.

``<save_dir>/<benchmark>/trajectories.jsonl`` (one :class:`StoredTrajectory` per line, appended as examples
finish, so a killed run resumes), ``<save_dir>/<benchmark>/result.json`` and ``<save_dir>/summary.json``.
``save_dir`` is a local directory; the cookbook also accepts object-store URIs through fsspec, which
tinkerlite does not bundle (a URI is refused with that reason).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...exceptions import ConfigurationError
from ...utils.files import atomic_write_bytes
from ._types import BenchmarkResult, Logs, Metrics, PassAtKScores, StoredTrajectory, StoredTurn

__all__ = [
    "load_result",
    "load_summary",
    "load_trajectories",
    "print_trajectory",
    "regrade_trajectories",
]

logger = logging.getLogger(__name__)


def storage_dir(save_dir: str) -> Path:
    if "://" in save_dir and not save_dir.startswith("file://"):
        raise ConfigurationError(
            f"save_dir={save_dir!r}: tinkerlite stores benchmark results in local directories only "
            "(object-store URIs need fsspec, which tinkerlite does not bundle)"
        )
    return Path(save_dir.removeprefix("file://")).expanduser()


def _jsonl_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    rows = []
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as e:  # a torn last line after a kill, or a hand edit
            logger.warning(f"Skipping malformed trajectory line {n} in {path}: {e}")
    return rows


def append_trajectory(save_dir: str, traj: StoredTrajectory) -> None:
    path = storage_dir(save_dir) / traj.benchmark / "trajectories.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(traj.to_dict()) + "\n")


def completed_examples(save_dir: str, benchmark_name: str) -> dict[str, tuple[float, Metrics, bool]]:
    """example_id -> (reward, metrics, was an error) for the examples a previous run already stored."""
    out: dict[str, tuple[float, Metrics, bool]] = {}
    for _, d in _jsonl_rows(storage_dir(save_dir) / benchmark_name / "trajectories.jsonl"):
        if "idx" not in d:
            continue
        out[d.get("example_id") or str(d["idx"])] = (
            d.get("reward", 0.0),
            d.get("metrics", {}),
            d.get("error") is not None,
        )
    return out


def save_result(save_dir: str, result: BenchmarkResult) -> None:
    path = storage_dir(save_dir) / result.name / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(result.to_dict(), indent=2).encode("utf-8"))


def save_summary(save_dir: str, results: dict[str, BenchmarkResult]) -> None:
    summary: dict[str, dict[str, Any]] = {}
    for name, r in results.items():
        entry: dict[str, Any] = {"score": r.score, "num_examples": r.num_examples, "num_correct": r.num_correct}
        if r.pass_at_k:
            entry["pass_at_k"] = {str(k): v for k, v in r.pass_at_k.items()}
        summary[name] = entry
    root = storage_dir(save_dir)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(root / "summary.json", json.dumps(summary, indent=2).encode("utf-8"))


def pass_at_k(per_example: dict[str, list[float]], k_values: list[int]) -> PassAtKScores:
    """Unbiased pass@k (Codex paper), averaged over examples with at least k samples."""
    out: PassAtKScores = {}
    for k in k_values:
        scores = []
        for rewards in per_example.values():
            n, c = len(rewards), sum(1 for r in rewards if r > 0)
            if k > n:
                continue
            scores.append(1.0 if n - c < k else 1.0 - math.comb(n - c, k) / math.comb(n, k))
        if scores:
            out[k] = sum(scores) / len(scores)
    return out


def k_values_for(num_samples: int) -> list[int]:
    return sorted({k for k in (1, 5, 10, 25, 50, 100) if k <= num_samples} | {num_samples})


def load_result(save_dir: str, benchmark_name: str) -> BenchmarkResult | None:
    """The stored ``result.json`` of one benchmark, or None."""
    try:
        d = json.loads((storage_dir(save_dir) / benchmark_name / "result.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return BenchmarkResult.from_dict(d)


def load_trajectories(
    save_dir: str,
    benchmark_name: str,
    correct_only: bool = False,
    incorrect_only: bool = False,
    errors_only: bool = False,
) -> list[StoredTrajectory]:
    """Stored trajectories, optionally only the correct, the wrong (not errored), or the errored ones."""
    out = []
    path = storage_dir(save_dir) / benchmark_name / "trajectories.jsonl"
    for n, d in _jsonl_rows(path):
        try:
            t = StoredTrajectory.from_dict(d)
        except KeyError as e:
            logger.warning(f"Skipping malformed trajectory line {n} in {path}: missing {e}")
            continue
        if correct_only and t.reward <= 0:
            continue
        if incorrect_only and (t.reward > 0 or t.error is not None):
            continue
        if errors_only and t.error is None:
            continue
        out.append(t)
    return out


def load_summary(save_dir: str) -> dict[str, dict[str, Any]]:
    """``summary.json`` of a :func:`run_benchmarks` call ({} when absent)."""
    try:
        data: dict[str, dict[str, Any]] = json.loads((storage_dir(save_dir) / "summary.json").read_text("utf-8"))
    except FileNotFoundError:
        return {}
    return data


def print_trajectory(traj: StoredTrajectory) -> None:
    """A short human-readable dump (long turns cut at 500 characters)."""
    head = f"reward={traj.reward:.2f}" + (f" ERROR: {traj.error}" if traj.error else "")
    print(f"--- [{traj.benchmark}#{traj.idx}] {head} ({traj.time_seconds:.1f}s) ---")
    marks = {"user": ">>", "assistant": "<<", "environment": "  ", "grader": "##"}
    for turn in traj.turns:
        content = turn.content if len(turn.content) <= 500 else f"{turn.content[:500]}... ({len(turn.content)} chars)"
        print(f"  {marks.get(turn.role, '??')} [{turn.role}] {content}")
    if traj.logs:
        print(f"  Logs: {traj.logs}")
    print()


def _last_assistant(turns: list[StoredTurn]) -> str:
    return next((t.content for t in reversed(turns) if t.role == "assistant"), "")


def regrade_trajectories(
    save_dir: str,
    benchmark_name: str,
    grade_fn: Callable[[str, Logs], float],
    aggregate_fn: Callable[[list[float], list[Metrics]], BenchmarkResult] | None = None,
) -> BenchmarkResult:
    """Score stored responses again with ``grade_fn(last assistant text, logs)``; errors stay 0."""
    trajs = load_trajectories(save_dir, benchmark_name)
    rewards = [0.0 if t.error else grade_fn(_last_assistant(t.turns), t.logs) for t in trajs]
    metrics = [{} if t.error else t.metrics for t in trajs]
    if aggregate_fn is not None:
        return aggregate_fn(rewards, metrics)
    correct = sum(1 for r in rewards if r > 0)
    return BenchmarkResult(
        name=benchmark_name,
        score=correct / len(rewards) if rewards else 0.0,
        num_examples=len(rewards),
        num_correct=correct,
        num_errors=sum(1 for t in trajs if t.error),
    )
