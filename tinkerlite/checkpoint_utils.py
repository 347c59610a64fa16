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
from typing import TYPE_CHECKING, Any, Literal

from .errors import TinkerliteError
from .utils.files import append_jsonl, read_jsonl

__all__ = [
    "CHECKPOINTS_BASE_NAME",
    "RENDERER_NAME_METADATA_KEY",
    "CheckpointManager",
    "CheckpointRecord",
    "PendingSave",
    "add_renderer_name_to_user_metadata",
    "check_renderer_name_for_checkpoint",
    "check_renderer_name_for_checkpoint_async",
    "get_last_checkpoint",
    "get_renderer_name_from_checkpoint",
    "get_renderer_name_from_checkpoint_async",
    "load_checkpoints_file",
    "resolve_renderer_name_from_checkpoint_or_default",
    "resolve_renderer_name_from_checkpoint_or_default_async",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)
CHECKPOINTS_BASE_NAME = "checkpoints.jsonl"
#: The training run's ``user_metadata`` key that records which renderer trained it.
RENDERER_NAME_METADATA_KEY = "renderer_name"
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
    store: Any | None = None
    """A run store (anything with ``write_checkpoint(record_dict)``) that takes the record instead of the file."""

    def finish(self) -> CheckpointRecord:
        paths = {f"{k}_path": fut.result().path for k, fut in self.futures.items()}
        if not all(isinstance(p, str) and p for p in paths.values()):
            raise TinkerliteError(f"checkpoint {self.name}: the server returned no path ({paths})")
        from .utils.trace import update_scope_context

        update_scope_context(paths)
        record = CheckpointRecord.from_dict({"name": self.name, **self.loop_state, **paths})
        if self.store is not None:
            self.store.write_checkpoint(record.to_dict())
        else:
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
    store: Any | None = None,
) -> PendingSave:
    futures: dict[str, Any] = {}
    if kind in ("state", "both"):
        futures["state"] = training_client.save_state(name, ttl_seconds=ttl_seconds)
    if kind in ("sampler", "both"):
        futures["sampler"] = training_client.save_weights_for_sampler(name, ttl_seconds=ttl_seconds)
    return PendingSave(name, dict(loop_state), futures, log_path, store)


def save_checkpoint(
    training_client: Any,
    name: str,
    log_path: str,
    loop_state: dict[str, Any],
    kind: SaveKind = "state",
    ttl_seconds: int | None = None,
    store: Any | None = None,
) -> dict[str, str]:
    """Save now, wait, append the record (to ``store`` when given); returns ``{"state_path": ..., ...}``."""
    rec = submit_save(training_client, name, log_path, loop_state, kind, ttl_seconds, store).finish()
    return {k: v for k, v in (("state_path", rec.state_path), ("sampler_path", rec.sampler_path)) if v}


async def save_checkpoint_async(
    training_client: Any,
    name: str,
    log_path: str,
    loop_state: dict[str, Any],
    kind: SaveKind = "state",
    ttl_seconds: int | None = None,
    store: Any | None = None,
) -> dict[str, str]:
    import asyncio

    return await asyncio.to_thread(
        save_checkpoint, training_client, name, log_path, loop_state, kind, ttl_seconds, store
    )


class _StepCheckpointer:
    """tinkerlite's loops' periodic (every ``save_every`` applied steps) and final checkpoints, submitted
    without blocking so the record carries the exact position of a pipelined save (the cookbook's
    :class:`CheckpointManager` API, for user loops, is in :mod:`tinkerlite.checkpoint_manager`)."""

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


# --- renderer metadata: a run records its renderer so a later run on its checkpoint renders the same way ---


def add_renderer_name_to_user_metadata(user_metadata: dict[str, str], renderer_name: str | None) -> None:
    """Record ``renderer_name`` in a run's ``user_metadata`` (in place); ``None``/empty is skipped."""
    if renderer_name:
        user_metadata[RENDERER_NAME_METADATA_KEY] = renderer_name


def _renderer_lookup_failed(checkpoint_path: str, e: Exception) -> None:
    logger.warning("Could not fetch renderer metadata for checkpoint %s: %s", checkpoint_path, e)


def _lookup_errors() -> tuple[type[Exception], ...]:
    from ._exceptions import TinkerError

    return (TinkerError, ValueError)


def get_renderer_name_from_checkpoint(service_client: Any, checkpoint_path: str) -> str | None:
    """The ``renderer_name`` of the training run behind ``checkpoint_path``, or ``None``.

    A service error or a malformed path is logged as a warning and read as "no metadata", as in the
    cookbook: the caller then falls back to the model's recommended renderer.
    """
    try:
        run = service_client.create_rest_client().get_training_run_by_tinker_path(checkpoint_path).result()
    except _lookup_errors() as e:
        _renderer_lookup_failed(checkpoint_path, e)
        return None
    name: str | None = (run.user_metadata or {}).get(RENDERER_NAME_METADATA_KEY)
    return name


async def get_renderer_name_from_checkpoint_async(service_client: Any, checkpoint_path: str) -> str | None:
    """Async :func:`get_renderer_name_from_checkpoint`."""
    try:
        run = await service_client.create_rest_client().get_training_run_by_tinker_path(checkpoint_path)
    except _lookup_errors() as e:
        _renderer_lookup_failed(checkpoint_path, e)
        return None
    name: str | None = (run.user_metadata or {}).get(RENDERER_NAME_METADATA_KEY)
    return name


def _service_client(base_url: str | None) -> Any:
    from .client.service_client import ServiceClient

    return ServiceClient(base_url=base_url)


def _recommended(model_name: str) -> str:
    from .model_info import get_recommended_renderer_name

    return get_recommended_renderer_name(model_name)


def _from_checkpoint(load_checkpoint_path: str, renderer_name: str | None) -> str | None:
    if renderer_name is not None:
        logger.info("Using renderer from checkpoint metadata for %s: %s", load_checkpoint_path, renderer_name)
    return renderer_name


def resolve_renderer_name_from_checkpoint_or_default(
    *,
    model_name: str,
    explicit_renderer_name: str | None,
    load_checkpoint_path: str | None,
    base_url: str | None = None,
) -> str:
    """The renderer to use: ``explicit_renderer_name``, else the one recorded with
    ``load_checkpoint_path``'s run, else ``model_name``'s recommended renderer."""
    if explicit_renderer_name is not None:
        return explicit_renderer_name
    if load_checkpoint_path is not None:
        found = get_renderer_name_from_checkpoint(_service_client(base_url), load_checkpoint_path)
        if _from_checkpoint(load_checkpoint_path, found) is not None:
            return str(found)
    return _recommended(model_name)


async def resolve_renderer_name_from_checkpoint_or_default_async(
    *,
    model_name: str,
    explicit_renderer_name: str | None,
    load_checkpoint_path: str | None,
    base_url: str | None = None,
) -> str:
    """Async :func:`resolve_renderer_name_from_checkpoint_or_default`."""
    if explicit_renderer_name is not None:
        return explicit_renderer_name
    if load_checkpoint_path is not None:
        found = await get_renderer_name_from_checkpoint_async(_service_client(base_url), load_checkpoint_path)
        if _from_checkpoint(load_checkpoint_path, found) is not None:
            return str(found)
    return _recommended(model_name)


def _report_renderer_check(checkpoint_path: str, expected: str, found: str | None) -> None:
    if found is None:
        logger.info("Checkpoint %s has no renderer metadata.", checkpoint_path)
    elif found != expected:
        logger.warning(
            "Renderer mismatch for checkpoint %s: checkpoint=%s current=%s", checkpoint_path, found, expected
        )
    else:
        logger.info("Renderer metadata matches for checkpoint %s: %s", checkpoint_path, expected)


def check_renderer_name_for_checkpoint(
    service_client: Any, checkpoint_path: str, expected_renderer_name: str | None
) -> None:
    """Warn when the checkpoint's run was trained with a different renderer (no-op for ``None``)."""
    if expected_renderer_name is None:
        return None
    found = get_renderer_name_from_checkpoint(service_client, checkpoint_path)
    _report_renderer_check(checkpoint_path, expected_renderer_name, found)
    return None


async def check_renderer_name_for_checkpoint_async(
    service_client: Any, checkpoint_path: str, expected_renderer_name: str | None
) -> None:
    """Async :func:`check_renderer_name_for_checkpoint`."""
    if expected_renderer_name is None:
        return None
    found = await get_renderer_name_from_checkpoint_async(service_client, checkpoint_path)
    _report_renderer_check(checkpoint_path, expected_renderer_name, found)
    return None


def __getattr__(name: str) -> Any:
    """``CheckpointManager`` at the cookbook's path, resolved on first use.

    A plain import here would be circular: ``checkpoint_manager`` imports this module's save functions,
    so importing ``tinkerlite.checkpoint_manager`` first found this module half-initialised.
    """
    if name == "CheckpointManager":
        from .checkpoint_manager import CheckpointManager

        return CheckpointManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .checkpoint_manager import CheckpointManager as CheckpointManager
