"""Run logs in the cookbook's formats: ``config.json`` once, ``metrics.jsonl`` one row per step.

Plus what the cookbook leaves to wandb: a one-line progress display that needs no third-party package.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Literal, TextIO

from ..errors import ValidationError
from .files import append_jsonl, atomic_write_json, read_jsonl

__all__ = ["LogdirBehavior", "MetricsLogger", "ProgressLine", "check_log_dir", "dump_config"]

logger = logging.getLogger(__name__)
LogdirBehavior = Literal["ask", "resume", "delete", "raise"]


class LogDirExistsError(ValidationError):
    pass


def check_log_dir(log_dir: str | os.PathLike[str], behavior_if_exists: LogdirBehavior | str) -> None:
    """What to do when ``log_dir`` already exists: resume in it, delete it, raise, or ask."""
    p = Path(log_dir)
    if behavior_if_exists not in ("ask", "resume", "delete", "raise"):
        raise ValidationError(
            f"must be one of ask, resume, delete, raise; got {behavior_if_exists!r}", field="behavior_if_log_dir_exists"
        )
    if not p.exists():
        return
    if behavior_if_exists == "resume":
        return
    if behavior_if_exists == "delete":
        logger.info("log dir %s exists; deleting it", p)
        shutil.rmtree(p)
        return
    if behavior_if_exists == "raise":
        raise LogDirExistsError(f"log directory {p} already exists", field="log_path")
    if not sys.stdin.isatty():
        raise LogDirExistsError(
            f"log directory {p} already exists and stdin is not a terminal to ask; "
            "pass behavior_if_log_dir_exists=resume|delete|raise",
            field="log_path",
        )
    while True:
        answer = input(f"Log directory {p} already exists. What do you want to do? [delete, resume, exit]: ").strip()
        if answer == "delete":
            shutil.rmtree(p)
            return
        if answer == "resume":
            return
        if answer == "exit":
            raise SystemExit(0)


def dump_config(config: Any) -> Any:
    """A JSON-able view of a config dataclass (nested dataclasses, paths and enums included)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        out = {f.name: dump_config(getattr(config, f.name)) for f in dataclasses.fields(config)}
        out["__class__"] = f"{type(config).__module__}.{type(config).__qualname__}"
        return out
    if isinstance(config, dict):
        return {str(k): dump_config(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [dump_config(v) for v in config]
    if isinstance(config, (str, int, float, bool)) or config is None:
        return config
    if hasattr(config, "value"):  # enums
        return config.value
    return repr(config)


class MetricsLogger:
    """Writes ``config.json`` and appends ``{"step": n, ...}`` rows to ``metrics.jsonl``."""

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.log_dir / "metrics.jsonl"

    def log_hparams(self, config: Any) -> None:
        atomic_write_json(self.log_dir / "config.json", dump_config(config))

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row: dict[str, Any] = {"step": step} if step is not None else {}
        row.update(metrics)
        append_jsonl(self.metrics_path, row)

    def truncate_metrics(self, from_step: int) -> int:
        """Drop rows with ``step >= from_step`` (they will be re-run after a resume); keep a backup."""
        rows = read_jsonl(self.metrics_path)
        keep = [r for r in rows if not (isinstance(r.get("step"), int) and r["step"] >= from_step)]
        dropped = len(rows) - len(keep)
        if dropped:
            shutil.copyfile(self.metrics_path, self.log_dir / f"metrics.jsonl.pre_resume_{from_step}")
            data = "".join(json.dumps(r, default=str) + "\n" for r in keep).encode("utf-8")
            from .files import atomic_write_bytes

            atomic_write_bytes(self.metrics_path, data)
        return dropped


class ProgressLine:
    """``step 12/100  loss 1.234  1.2k tok/s  ETA 0:01:10`` — one line per step, no dependencies."""

    def __init__(self, total_steps: int, stream: TextIO | None = None) -> None:
        self.total = total_steps
        self.stream = stream or sys.stdout
        self.t0 = time.monotonic()
        self.tokens = 0
        self.done = 0

    def update(self, step: int, loss: float, num_tokens: int, extra: str = "") -> str:
        self.tokens += num_tokens
        self.done += 1
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        rate = self.tokens / elapsed
        remaining = max(self.total - (step + 1), 0)
        eta = elapsed / self.done * remaining
        loss_s = "nan" if math.isnan(loss) else f"{loss:.4f}"
        line = (
            f"step {step + 1}/{self.total}  loss {loss_s}  {_si(rate)} tok/s  "
            f"ETA {int(eta) // 3600}:{int(eta) % 3600 // 60:02d}:{int(eta) % 60:02d}"
        )
        if extra:
            line += f"  {extra}"
        print(line, file=self.stream, flush=True)
        return line


def _si(x: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"
