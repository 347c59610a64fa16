"""Incremental JSONL reading by byte offset (the cookbook's ``stores._incremental``): each ``read`` parses
only complete new lines since the last one; memory is bounded to ``max_records``; thread-safe."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from .storage import Storage

logger = logging.getLogger(__name__)

_MAX_RECORDS = 50_000


class IncrementalReader:
    """Reads a growing JSONL file, remembering how far it got."""

    def __init__(self, storage: Storage, path: str, max_records: int = _MAX_RECORDS) -> None:
        self._storage = storage
        self._path = path
        self._max_records = max_records
        self._offset = 0
        self._records: list[dict[str, Any]] = []
        self._known_keys: set[str] = set()
        self._total_read = 0
        self._lock = threading.Lock()

    @property
    def records(self) -> list[dict[str, Any]]:
        """The buffered records (a copy, at most ``max_records``)."""
        with self._lock:
            return list(self._records)

    @property
    def total_read(self) -> int:
        """Records read since creation (not bounded)."""
        with self._lock:
            return self._total_read

    @property
    def known_keys(self) -> set[str]:
        """Every key seen except ``step``."""
        with self._lock:
            return set(self._known_keys)

    def read(self) -> list[dict[str, Any]]:
        """The records added since the last call (a torn last line waits for its newline)."""
        with self._lock:
            return self._read_locked()

    def _read_locked(self) -> list[dict[str, Any]]:
        stat = self._storage.stat(self._path)
        if stat is None or stat.size <= self._offset:
            return []
        try:
            new = self._storage.read_range(self._path, self._offset)
        except FileNotFoundError:
            return []
        if not new.endswith(b"\n"):
            cut = new.rfind(b"\n")
            if cut == -1:
                return []
            new = new[: cut + 1]
        self._offset += len(new)
        out: list[dict[str, Any]] = []
        for line in new.decode("utf-8", errors="replace").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("Skipping malformed JSONL line: %s", line[:100])
                continue
            out.append(record)
            self._known_keys.update(k for k in record if k != "step")
        self._records.extend(out)
        self._total_read += len(out)
        if len(self._records) > self._max_records:
            self._records = self._records[-self._max_records :]
        return out

    async def aread(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.read)

    def has_data(self) -> bool:
        """Records in memory, or a non-empty file."""
        with self._lock:
            if self._records:
                return True
            stat = self._storage.stat(self._path)
            return stat is not None and stat.size > 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
