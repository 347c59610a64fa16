"""Checkpoint records in ``checkpoints.jsonl``, and a manager that saves on a cadence.

Each record says exactly which optimizer steps its weights contain (``step``: the count of applied
steps) and where to continue (``epoch``, ``batch``: the next *unapplied* batch). A save request is
sequenced on the server after every request submitted before it, so the manager records the position
at the moment the save is submitted, not when an earlier step's result comes back. (The cookbook
records the batch being finished while a pipelined later step is already in the saved weights, so its
resume replays batches.)

A record is appended only after the server confirmed the save, so a crash can lose the newest
checkpoint but never leave a record that points at nothing. What a SIGKILL of the training process
can leave behind, and why each is harmless:

* steps the server applied after the last record (pipelined submissions keep running there): a resume
  starts a *new* training client from the recorded state, so those steps are simply not in it;
* a save that completed on the server but was never recorded: the resume uses the previous record and
  re-runs the steps after it, which are deterministic;
* a torn last line in ``checkpoints.jsonl`` / ``metrics.jsonl``: ignored by the reader and cut off by
  the next append (:func:`tinkerlite.utils.files.append_jsonl`).

``tests/supervised_e2e/test_kill_resume.py`` kills a real run at random points and checks the result
bit for bit against an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import TinkerliteError
from .utils.files import append_jsonl, read_jsonl

__all__ = [
    "CHECKPOINTS_BASE_NAME",
    "CheckpointManager",
    "CheckpointRecord",
    "PendingSave",
    "get_last_checkpoint",
    "load_checkpoints_file",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)
CHECKPOINTS_BASE_NAME = "checkpoints.jsonl"
SaveKind = Literal["state", "sampler", "both"]


@dataclass
class CheckpointRecord:
    name: str
    batch: int | None = None
    epoch: int | None = None
    final: bool | None = None
    state_path: str | None = None
    sampler_path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name}
        for key in ("batch", "epoch", "final", "state_path", "sampler_path"):
            v = getattr(self, key)
            if v is not None:
                d[key] = v
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckpointRecord:
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(
            name=d["name"],
            batch=d.get("batch"),
            epoch=d.get("epoch"),
            final=d.get("final"),
            state_path=d.get("state_path"),
            sampler_path=d.get("sampler_path"),
            extra={k: v for k, v in d.items() if k not in known},
        )

    def has(self, key: str) -> bool:
        if key in ("name", "batch", "epoch", "final", "state_path", "sampler_path"):
            return getattr(self, key) is not None
        return key in self.extra

    def get(self, key: str, default: Any = None) -> Any:
        if key in ("name", "batch", "epoch", "final", "state_path", "sampler_path"):
            return getattr(self, key)
        return self.extra.get(key, default)


def load_checkpoints_file(log_dir: str | os.PathLike[str]) -> list[CheckpointRecord]:
    return [CheckpointRecord.from_dict(d) for d in read_jsonl(Path(log_dir) / CHECKPOINTS_BASE_NAME)]


def get_last_checkpoint(log_dir: str | os.PathLike[str], required_key: str = "state_path") -> CheckpointRecord | None:
    rows = [c for c in load_checkpoints_file(log_dir) if c.has(required_key)]
    return rows[-1] if rows else None


@dataclass
class PendingSave:
    """A save that has been submitted; ``finish()`` waits for it and appends the record."""

    name: str
    loop_state: dict[str, Any]
    futures: dict[str, Any]
    log_path: str

    def finish(self) -> CheckpointRecord:
        paths = {f"{k}_path": fut.result().path for k, fut in self.futures.items()}
        if not all(isinstance(p, str) and p for p in paths.values()):
            raise TinkerliteError(f"checkpoint {self.name}: the server returned no path ({paths})")
        record = CheckpointRecord.from_dict({"name": self.name, **self.loop_state, **paths})
        append_jsonl(Path(self.log_path) / CHECKPOINTS_BASE_NAME, record.to_dict())
        logger.info("saved checkpoint %s: %s", self.name, paths)
        return record

    def finish_or_warn(self) -> CheckpointRecord | None:
        """For periodic saves: a failed save is logged and left unrecorded, and training goes on.

        No record means a resume falls back to the previous checkpoint, which is always correct; a save
        is never retried later, because a late retry would capture weights from a later step.
        """
        try:
            return self.finish()
        except Exception as e:  # any failure of one save must not end the run
            logger.warning("checkpoint %s failed and is not recorded: %s", self.name, e)
            return None


def submit_save(
    training_client: Any,
    name: str,
    log_path: str,
    loop_state: dict[str, Any],
    kind: SaveKind = "state",
    ttl_seconds: int | None = None,
) -> PendingSave:
    futures: dict[str, Any] = {}
    if kind in ("state", "both"):
        futures["state"] = training_client.save_state(name, ttl_seconds=ttl_seconds)
    if kind in ("sampler", "both"):
        futures["sampler"] = training_client.save_weights_for_sampler(name, ttl_seconds=ttl_seconds)
    return PendingSave(name, dict(loop_state), futures, log_path)


def save_checkpoint(
    training_client: Any,
    name: str,
    log_path: str,
    loop_state: dict[str, Any],
    kind: SaveKind = "state",
    ttl_seconds: int | None = None,
) -> dict[str, str]:
    """Save now, wait, append the record; returns ``{"state_path": ..., "sampler_path": ...}``."""
    rec = submit_save(training_client, name, log_path, loop_state, kind, ttl_seconds).finish()
    return {k: v for k, v in (("state_path", rec.state_path), ("sampler_path", rec.sampler_path)) if v}


async def save_checkpoint_async(
    training_client: Any,
    name: str,
    log_path: str,
    loop_state: dict[str, Any],
    kind: SaveKind = "state",
    ttl_seconds: int | None = None,
) -> dict[str, str]:
    import asyncio

    return await asyncio.to_thread(save_checkpoint, training_client, name, log_path, loop_state, kind, ttl_seconds)


class CheckpointManager:
    """Periodic (every ``save_every`` applied steps) and final checkpoints, submitted without blocking."""

    def __init__(
        self, training_client: Any, log_path: str, save_every: int = 20, ttl_seconds: int | None = 604800
    ) -> None:
        self.training_client = training_client
        self.log_path = log_path
        self.save_every = save_every
        self.ttl_seconds = ttl_seconds

    def should_save(self, applied_steps: int) -> bool:
        return self.save_every > 0 and applied_steps > 0 and applied_steps % self.save_every == 0

    def submit_periodic(self, applied_steps: int, loop_state: dict[str, Any]) -> PendingSave:
        return submit_save(
            self.training_client, f"{applied_steps:06d}", self.log_path, loop_state, "both", self.ttl_seconds
        )

    def save_final(self, loop_state: dict[str, Any]) -> CheckpointRecord:
        return submit_save(
            self.training_client, "final", self.log_path, {**loop_state, "final": True}, "both", None
        ).finish()
