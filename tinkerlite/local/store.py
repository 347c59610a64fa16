"""The state directory: training-run records and checkpoints, written atomically.

Layout (``<run>`` is the model id, e.g. ``3f2a…:train:0``)::

    <state_dir>/runs/<run>/run.json                      TrainingRun record (+ LoRA settings)
    <state_dir>/runs/<run>/<kind>/<name>.npz             arrays (adapters; optimizer for kind "weights")
    <state_dir>/runs/<run>/<kind>/<name>.json            Checkpoint record; written last, so it marks completion
    <state_dir>/runs/<run>/external_weights/<name>/...   files of an external-weights export (PEFT adapter)

Every file is written to a temporary name in the same directory, flushed and ``os.replace``-d. Names are
checked against a strict pattern and the resolved path must stay under the state dir, so a checkpoint
name can never escape it. Expired checkpoints (``expires_at`` in the past) are treated as deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..utils.files import atomic_write_bytes
from . import auth
from .scheduler import OpError

__all__ = ["KIND_TO_TYPE", "LOADABLE_KINDS", "Store", "check_name", "check_run_id", "now_iso", "parse_tinker_path"]

KIND_TO_TYPE = {"weights": "training", "sampler_weights": "sampler", "external_weights": "external"}
# Kinds whose arrays a model can load; external weights are files for other tools (see save_external).
LOADABLE_KINDS = ("weights", "sampler_weights")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_RUN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
_MAX_TTL = 10 * 365 * 24 * 3600


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def check_name(name: object, what: str = "path") -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise OpError(
            f"{what}: checkpoint name {name!r} must be 1-128 characters of letters, digits, '_', '-', '.' "
            "and must not start with '.' or contain '/'"
        )
    return name


def check_run_id(run_id: object) -> str:
    if not isinstance(run_id, str) or not _RUN_RE.match(run_id):
        raise OpError(f"invalid training run id {run_id!r}")
    return run_id


def parse_tinker_path(path: object) -> tuple[str, str, str]:
    """``tinker://<run>/<weights|sampler_weights>/<name>`` → (run, kind, name)."""
    if not isinstance(path, str) or not path.startswith("tinker://"):
        raise OpError(f"expected a tinker://<run>/<weights|sampler_weights>/<name> path, got {path!r}")
    parts = path[len("tinker://") :].split("/")
    if len(parts) != 3:
        raise OpError(f"expected exactly three parts after tinker://, got {path!r}")
    run, kind, name = parts
    if kind not in KIND_TO_TYPE:
        raise OpError(f"unknown checkpoint kind {kind!r} in {path!r} (this server stores weights, sampler_weights)")
    return check_run_id(run), kind, check_name(name)


class Store:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()

    # ---- paths and atomic writes ------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        p = (self.root / "runs" / check_run_id(run_id)).resolve()
        if p.parent != self.root / "runs":
            raise OpError(f"training run id {run_id!r} escapes the state dir")
        return p

    def _ckpt_base(self, run_id: str, kind: str, name: str) -> Path:
        if kind not in KIND_TO_TYPE:
            raise OpError(f"unknown checkpoint kind {kind!r}")
        d = self._run_dir(run_id) / kind
        p = (d / check_name(name)).resolve()
        if p.parent != d:
            raise OpError(f"checkpoint name {name!r} escapes the state dir")
        return p

    _atomic_write = staticmethod(atomic_write_bytes)

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any] | None:
        try:
            obj = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return obj if isinstance(obj, dict) else None

    # ---- training runs ----------------------------------------------------------------------------------

    def write_run(self, record: dict[str, Any]) -> None:
        with self._lock:
            path = self._run_dir(record["training_run_id"]) / "run.json"
            self._atomic_write(path, json.dumps(record, allow_nan=False).encode())

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run record, or None if absent or owned by another user (see auth.py)."""
        try:
            rec = self._read_json(self._run_dir(run_id) / "run.json")
        except OpError:
            return None
        return rec if rec is not None and auth.may_see(rec.get("owner")) else None

    def _visible(self, run_id: str) -> bool:
        return auth.current().admin or self.get_run(run_id) is not None

    def list_runs(self) -> list[dict[str, Any]]:
        out = []
        for d in sorted((self.root / "runs").iterdir()):
            rec = self._read_json(d / "run.json")
            if rec is not None and auth.may_see(rec.get("owner")):
                out.append(rec)
        out.sort(key=lambda r: str(r.get("created", "")))
        return out

    # ---- checkpoints ------------------------------------------------------------------------------------

    def exists(self, run_id: str, kind: str, name: str) -> bool:
        return self.get_checkpoint(run_id, kind, name) is not None

    def save_checkpoint(
        self,
        run_id: str,
        kind: str,
        name: str,
        state: dict[str, Any],
        ttl_seconds: int | None = None,
        user_metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        from . import checkpoint_format

        base = self._ckpt_base(run_id, kind, name)
        data = checkpoint_format.dumps(state)
        now = datetime.now(timezone.utc)
        record: dict[str, Any] = {
            "checkpoint_id": f"{kind}/{name}",
            "checkpoint_type": KIND_TO_TYPE[kind],
            "time": now.isoformat(),
            "tinker_path": f"tinker://{run_id}/{kind}/{name}",
            "size_bytes": len(data),
            "public": False,
        }
        if user_metadata:
            record["user_metadata"] = dict(user_metadata)
        if ttl_seconds is not None:
            record["expires_at"] = (now + timedelta(seconds=check_ttl(ttl_seconds))).isoformat()
        with self._lock:
            self._atomic_write(base.with_suffix(".npz"), data)
            self._atomic_write(base.with_suffix(".json"), json.dumps(record, allow_nan=False).encode())
        return record

    def get_checkpoint(self, run_id: str, kind: str, name: str) -> dict[str, Any] | None:
        try:
            base = self._ckpt_base(run_id, kind, name)
        except OpError:
            return None
        if not self._visible(run_id):
            return None
        rec = self._read_json(base.with_suffix(".json"))
        if rec is None or _expired(rec):
            return None
        return rec

    def load_arrays(self, run_id: str, kind: str, name: str) -> dict[str, Any]:
        from . import checkpoint_format

        if self.get_checkpoint(run_id, kind, name) is None:
            raise OpError(f"checkpoint tinker://{run_id}/{kind}/{name} not found")
        if kind not in LOADABLE_KINDS:
            raise OpError(
                f"tinker://{run_id}/{kind}/{name} holds exported files, not loadable weights; "
                "load a weights/ or sampler_weights/ checkpoint instead"
            )
        base = self._ckpt_base(run_id, kind, name)
        try:
            return checkpoint_format.loads(base.with_suffix(".npz").read_bytes())
        except (OSError, ValueError) as e:
            raise OpError(f"checkpoint tinker://{run_id}/{kind}/{name} is unreadable: {e}", "server") from None

    def list_checkpoints(self, run_id: str | None = None) -> list[dict[str, Any]]:
        runs = [self._run_dir(run_id)] if run_id is not None else sorted((self.root / "runs").iterdir())
        out = []
        for d in runs:
            if not self._visible(d.name):
                continue
            for kind in KIND_TO_TYPE:
                kd = d / kind
                if not kd.is_dir():
                    continue
                for f in sorted(kd.glob("*.json")):
                    rec = self._read_json(f)
                    if rec is not None and not _expired(rec):
                        out.append(rec)
        out.sort(key=lambda r: str(r.get("time", "")))
        return out

    def update_checkpoint(self, run_id: str, kind: str, name: str, **changes: Any) -> dict[str, Any]:
        with self._lock:
            rec = self.get_checkpoint(run_id, kind, name)
            if rec is None:
                raise OpError(f"checkpoint tinker://{run_id}/{kind}/{name} not found")
            for k, v in changes.items():
                if v is None:
                    rec.pop(k, None)
                else:
                    rec[k] = v
            base = self._ckpt_base(run_id, kind, name)
            self._atomic_write(base.with_suffix(".json"), json.dumps(rec, allow_nan=False).encode())
            return rec

    def delete_checkpoint(self, run_id: str, kind: str, name: str) -> bool:
        with self._lock:
            base = self._ckpt_base(run_id, kind, name)
            found = base.with_suffix(".json").exists()
            for suffix in (".json", ".npz"):  # the record first: a half-deleted checkpoint is invisible
                try:
                    base.with_suffix(suffix).unlink()
                except FileNotFoundError:
                    pass
            if kind == "external_weights":
                shutil.rmtree(base, ignore_errors=True)
            return found

    def save_external(
        self,
        run_id: str,
        name: str,
        files: dict[str, bytes],
        ttl_seconds: int | None = None,
        user_metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Store an external-weights export: plain files in ``<name>/``, then the record."""
        base = self._ckpt_base(run_id, "external_weights", name)
        now = datetime.now(timezone.utc)
        record: dict[str, Any] = {
            "checkpoint_id": f"external_weights/{name}",
            "checkpoint_type": "external",
            "time": now.isoformat(),
            "tinker_path": f"tinker://{run_id}/external_weights/{name}",
            "size_bytes": sum(len(b) for b in files.values()),
            "public": False,
        }
        if user_metadata:
            record["user_metadata"] = dict(user_metadata)
        if ttl_seconds is not None:
            record["expires_at"] = (now + timedelta(seconds=check_ttl(ttl_seconds))).isoformat()
        with self._lock:
            shutil.rmtree(base, ignore_errors=True)
            for rel, data in files.items():
                check_name(rel, "file")
                self._atomic_write(base / rel, data)
            self._atomic_write(base.with_suffix(".json"), json.dumps(record, allow_nan=False).encode())
        return record

    def external_file(self, run_id: str, name: str, rel: str) -> Path | None:
        """The path of one file of a live external-weights export (None if absent or expired)."""
        if self.get_checkpoint(run_id, "external_weights", name) is None:
            return None
        try:
            check_name(rel, "file")
        except OpError:
            return None
        p = self._ckpt_base(run_id, "external_weights", name) / rel
        return p if p.is_file() else None

    def external_files(self, run_id: str, name: str) -> list[str]:
        """Names of the files of a live external-weights export (empty if absent or expired)."""
        if self.get_checkpoint(run_id, "external_weights", name) is None:
            return []
        d = self._ckpt_base(run_id, "external_weights", name)
        return sorted(f.name for f in d.iterdir() if f.is_file() and not f.name.startswith(".")) if d.is_dir() else []

    def delete_run(self, run_id: str) -> None:
        shutil.rmtree(self._run_dir(run_id), ignore_errors=True)


def check_ttl(ttl: object) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= _MAX_TTL:
        raise OpError(f"ttl_seconds must be an integer in [1, {_MAX_TTL}] or null, got {ttl!r}")
    return ttl


def _expired(rec: dict[str, Any]) -> bool:
    exp = rec.get("expires_at")
    if not isinstance(exp, str):
        return False
    try:
        return datetime.fromisoformat(exp) <= datetime.now(timezone.utc)
    except ValueError:
        return False
