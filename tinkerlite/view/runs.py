"""Reading cookbook-format run directories: no HTTP here, only files in and plain dicts out.

A run directory holds some of ``metrics.jsonl`` (one ``{"step": N, ...}`` row per step), ``checkpoints.jsonl``
and ``config.json`` (tinkerlite's and the official cookbook's loops write the same three). Every reader
streams: a ``metrics.jsonl`` of any size is read line by line into per-metric series that keep at most
``max_points`` points each (the stride doubles when a series fills up), so memory stays bounded however long
the run. A last line with no newline yet (a run being written, or one killed mid-write) is left unread and
picked up on the next poll; a line that is not JSON is counted and skipped.
"""

from __future__ import annotations

import json
import math
import os
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RUN_FILES",
    "MetricsRead",
    "NotARunDirError",
    "SeriesSampler",
    "discover_runs",
    "is_run_dir",
    "iter_jsonl",
    "read_checkpoints",
    "read_config",
    "read_metrics",
    "read_rollouts",
    "run_summary",
]

RUN_FILES = ("metrics.jsonl", "checkpoints.jsonl", "config.json")
# A run whose metrics were written this recently, with no final checkpoint, is still running.
RUNNING_WINDOW_S = 120.0
_SKIP_DIRS = {"server", "__pycache__", ".git", "node_modules"}
_LOSS_KEYS = ("train_mean_nll", "loss:sum", "dpo_loss", "loss", "teacher_kl", "env/all/reward/total")


class NotARunDirError(ValueError):
    """A path given to ``tinkerlite view`` holds no run directory."""


def is_run_dir(path: str) -> bool:
    return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, f)) for f in RUN_FILES)


def discover_runs(paths: Sequence[str], max_depth: int = 6) -> list[str]:
    """Every run directory at or under ``paths`` (real paths, sorted, deduplicated); raises if none."""
    found: dict[str, None] = {}
    for top in paths:
        if not os.path.isdir(top):
            raise NotARunDirError(f"{top}: not a directory; expected a run dir holding {' or '.join(RUN_FILES)}")
        before = len(found)
        base_depth = os.path.realpath(top).count(os.sep)
        for root, dirs, _files in os.walk(os.path.realpath(top)):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("iteration_"))
            if root.count(os.sep) - base_depth >= max_depth:
                dirs[:] = []
            if is_run_dir(root):
                found[root] = None
        if len(found) == before:
            raise NotARunDirError(
                f"{top}: no run directory found (expected {', '.join(RUN_FILES)} in it or in a subdirectory)"
            )
    return sorted(found)


def iter_jsonl(path: str, start: int = 0, stats: dict[str, int] | None = None) -> Iterator[tuple[int, Any]]:
    """(offset after the line, parsed row) for each complete JSON line from byte ``start``.

    A last line without its newline is not yielded (it may still be being written). ``stats["bad"]`` counts
    lines that are not JSON objects. A missing file yields nothing.
    """
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        f.seek(start)
        offset = start
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            offset += len(raw)
            line = raw.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                if stats is not None:
                    stats["bad"] = stats.get("bad", 0) + 1
                continue
            yield offset, row


@dataclass
class SeriesSampler:
    """One metric's (step, wall time, value) points, at most ``max_points``: a stride-doubling decimation."""

    max_points: int
    stride: int = 1
    seen: int = 0
    data: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]

    def add(self, step: float, wall: float, value: float) -> None:
        if self.seen % self.stride == 0:
            self.data.extend((step, wall, value))
            if len(self.data) // 3 >= self.max_points:
                keep = array("d")
                for i in range(0, len(self.data), 6):
                    keep.extend(self.data[i : i + 3])
                self.data = keep
                self.stride *= 2
        self.seen += 1

    def points(self) -> list[list[float | None]]:
        d = self.data
        return [[d[i], d[i + 1], _finite(d[i + 2])] for i in range(0, len(d), 3)]


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass
class MetricsRead:
    """What one read of ``metrics.jsonl`` found, from ``start`` to ``offset``."""

    offset: int
    wall: float
    rows: int
    bad_lines: int
    last_step: float | None
    series: dict[str, SeriesSampler]
    last_row: dict[str, Any] | None
    reset: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "wall": self.wall,
            "rows": self.rows,
            "bad_lines": self.bad_lines,
            "last_step": self.last_step,
            "reset": self.reset,
            "stride": max((s.stride for s in self.series.values()), default=1),
            "series": {k: s.points() for k, s in sorted(self.series.items())},
        }


def read_metrics(
    run_dir: str, start: int = 0, wall: float = 0.0, max_points: int = 2000, into: MetricsRead | None = None
) -> MetricsRead:
    """Numeric series of ``metrics.jsonl`` from byte ``start``; x is ``step`` (else the row index) and the
    cumulative ``time/total`` (continuing from ``wall``, which a poller passes back).

    ``into`` (an earlier read) is extended in place from where it stopped. A file now shorter than the
    offset (a resumed run truncates it) is read again from the start, with ``reset`` set.
    """
    path = os.path.join(run_dir, "metrics.jsonl")
    if into is not None:
        start, wall = into.offset, into.wall
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    reset = start > size
    if reset:
        start, wall, into = 0, 0.0, None
    stats: dict[str, int] = {"bad": into.bad_lines} if into is not None else {}
    series: dict[str, SeriesSampler] = into.series if into is not None else {}
    offset, rows = start, into.rows if into is not None else 0
    last_step, last_row = (into.last_step, into.last_row) if into is not None else (None, None)
    for end, row in iter_jsonl(path, start, stats):
        offset = end
        step = row.get("step")
        x = float(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else float(rows)
        dt = row.get("time/total")
        if isinstance(dt, (int, float)) and not isinstance(dt, bool) and math.isfinite(dt):
            wall += float(dt)
        for key, value in row.items():
            if key == "step" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            s = series.get(key)
            if s is None:
                s = series[key] = SeriesSampler(max_points)
            s.add(x, wall, float(value))
        rows += 1
        last_step, last_row = x, row
    if into is not None:
        into.offset, into.wall, into.rows, into.bad_lines = offset, wall, rows, stats.get("bad", 0)
        into.last_step, into.last_row, into.reset = last_step, last_row, False
        return into
    return MetricsRead(offset, wall, rows, stats.get("bad", 0), last_step, series, last_row, reset)


def read_checkpoints(run_dir: str) -> list[dict[str, Any]]:
    out = []
    for _, row in iter_jsonl(os.path.join(run_dir, "checkpoints.jsonl")):
        kinds = [k for k, key in (("state", "state_path"), ("sampler", "sampler_path")) if row.get(key)]
        out.append({**row, "kind": "both" if len(kinds) == 2 else (kinds[0] if kinds else "none")})
    return out


def read_config(run_dir: str) -> dict[str, Any] | None:
    """``config.json`` as a dict; None when absent or unreadable (a half-written file is not an error)."""
    try:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tail_rows(path: str, n_bytes: int = 65536) -> list[dict[str, Any]]:
    """The last complete JSON rows of a file, reading only its last ``n_bytes``."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n_bytes))
            chunk = f.read()
    except OSError:
        return []
    lines = chunk.split(b"\n")
    lines = lines[1:-1] if size > n_bytes else lines[:-1]  # drop a partial first and the unterminated last
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def run_summary(run_dir: str, now: float | None = None) -> dict[str, Any]:
    """Model, renderer, status (running / finished / crashed), steps, last loss, wall time: cheap (tails only)."""
    now = time.time() if now is None else now
    config = read_config(run_dir) or {}
    checkpoints = read_checkpoints(run_dir)
    final = any(c.get("final") or c.get("name") == "final" for c in checkpoints)
    tail = _tail_rows(os.path.join(run_dir, "metrics.jsonl"))
    last = tail[-1] if tail else {}
    times = [t for t in (_mtime(os.path.join(run_dir, f)) for f in RUN_FILES) if t is not None]
    started = _mtime(os.path.join(run_dir, "config.json")) or (min(times) if times else None)
    updated = max(times) if times else None
    if final:
        status = "finished"
    elif updated is not None and now - updated < RUNNING_WINDOW_S:
        status = "running"
    else:
        status = "crashed"
    loss_key, last_loss = None, None
    for row in reversed(tail):  # the last row may hold only a final eval: look back for a loss
        loss_key = next((k for k in _LOSS_KEYS if isinstance(row.get(k), (int, float))), None)
        if loss_key is not None:
            last_loss = row[loss_key]
            break
    ds = config.get("dataset_builder") if isinstance(config.get("dataset_builder"), dict) else {}
    renderer = (
        config.get("renderer_name")
        or (ds or {}).get("renderer_name")
        or ((ds or {}).get("common_config") or {}).get("renderer_name")
    )
    return {
        "path": run_dir,
        "name": os.path.basename(run_dir.rstrip(os.sep)) or run_dir,
        "model": config.get("model_name"),
        "renderer": renderer,
        "recipe": config.get("recipe_name"),
        "status": status,
        "steps": last.get("step"),
        "loss_key": loss_key,
        "last_loss": last_loss,
        "wall_s": (updated - started) if updated is not None and started is not None else None,
        "updated": updated,
        "n_checkpoints": len(checkpoints),
        "has_server_state": os.path.isdir(os.path.join(run_dir, "server")),
    }


def read_rollouts(run_dir: str, limit: int = 2000) -> dict[str, Any]:
    """Per-trajectory rollout records (the cookbook's ``iteration_NNNNNN/<split>_rollout_summaries.jsonl``),
    grouped by iteration and group, with advantages (reward minus the group mean) filled in. ``transcripts``
    lists the splits whose token sidecar exists (see :mod:`tinkerlite.view.transcripts`)."""
    iterations: dict[int, dict[str, Any]] = {}
    n = 0
    try:
        names = sorted(d for d in os.listdir(run_dir) if d.startswith("iteration_"))
    except OSError:
        names = []
    for d in names:
        full = os.path.join(run_dir, d)
        if not os.path.isdir(full):
            continue
        fnames = sorted(os.listdir(full))
        sidecars = [f[: -len("_rollout_tokens.jsonl")] for f in fnames if f.endswith("_rollout_tokens.jsonl")]
        if sidecars:
            it_dir = int(d[len("iteration_") :]) if d[len("iteration_") :].isdigit() else None
            if it_dir is not None:
                iterations.setdefault(it_dir, {"iteration": it_dir, "groups": {}})["transcripts"] = sidecars
        for fname in fnames:
            if not fname.endswith("_rollout_summaries.jsonl"):
                continue
            split = fname[: -len("_rollout_summaries.jsonl")]
            for _, rec in iter_jsonl(os.path.join(full, fname)):
                if n >= limit:
                    break
                it = int(rec.get("iteration", d[len("iteration_") :] or 0))
                group_key = f"{split}:{rec.get('group_idx', 0)}"
                groups = iterations.setdefault(it, {"iteration": it, "groups": {}})["groups"]
                groups.setdefault(group_key, {"split": split, "group_idx": rec.get("group_idx"), "trajs": []})[
                    "trajs"
                ].append(rec)
                n += 1
    out = []
    for it in sorted(iterations):
        groups = []
        for g in iterations[it]["groups"].values():
            rewards = [float(t.get("total_reward") or 0.0) for t in g["trajs"]]
            mean = sum(rewards) / len(rewards) if rewards else 0.0
            for t, r in zip(g["trajs"], rewards, strict=True):
                t.setdefault("advantage", r - mean)
            groups.append({**g, "reward_mean": mean})
        out.append({"iteration": it, "groups": groups, "transcripts": iterations[it].get("transcripts", [])})
    reason = None
    if not out:
        reason = (
            "no per-rollout logs in this run dir (RL loops write iteration_NNNNNN/train_rollout_summaries.jsonl "
            "when rollout_json_export is on)"
        )
    return {"iterations": out, "count": n, "truncated": n >= limit, "reason": reason}
