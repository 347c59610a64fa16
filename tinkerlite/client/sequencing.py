"""Seq-id reservation and in-order submission (§6).

Ids are reserved on the caller's thread at call time (so program order fixes the order), while the
POSTs run later on the holder's event loop: :class:`TurnGate` lets a submission through only when
all earlier ids have been submitted. Only submissions are ordered; results are awaited concurrently.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

CLONE_BLOCK = 1_000_000_000


class IdCounter:
    """Thread-safe block reservation: ``reserve(n)`` returns ``range(start, start + n)``."""

    def __init__(self, start: int = 0) -> None:
        self._lock = threading.Lock()
        self._next = start

    def reserve(self, count: int = 1) -> range:
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            start = self._next
            self._next += count
            return range(start, self._next)

    @property
    def next_value(self) -> int:
        with self._lock:
            return self._next


def training_seq_id(request_id: int) -> int:
    """Training requests carry ``request_id + 1``: seq 0 is the model's creation."""
    return request_id + 1


def clone_seq_start(clone_id: int) -> int:
    """An unpickled sampling client numbers its requests from ``1e9 × clone_id``."""
    return CLONE_BLOCK * clone_id


class PoisonedError(RuntimeError):
    pass


class TurnGate:
    """Submission turns in request-id order; must be used from one event loop.

    ``turn(lo, hi)``: wait until every id below ``lo`` has taken its turn. Callers sharing a range
    (parallel forward_backward chunks) all proceed once ``lo`` is reached; each advances the counter
    on entry, so later ids wait for the whole range. A failed submission fails that call only (as in
    SDK 0.38); :meth:`poison` is for ids that can never be sent (a failed custom-loss phase).
    """

    def __init__(self) -> None:
        self._counter = 0
        self._waiters: dict[int, list[asyncio.Event]] = {}
        self._error: BaseException | None = None

    @property
    def counter(self) -> int:
        return self._counter

    def poison(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        for events in self._waiters.values():
            for event in events:
                event.set()
        self._waiters.clear()

    @property
    def poisoned(self) -> BaseException | None:
        return self._error

    @asynccontextmanager
    async def turn(self, lo: int, hi: int | None = None) -> AsyncIterator[None]:
        hi = lo if hi is None else hi
        if lo > hi:
            raise ValueError("turn range is empty")
        if self._error is None and self._counter < lo:
            event = asyncio.Event()
            self._waiters.setdefault(lo, []).append(event)
            await event.wait()
        if self._error is not None:
            raise PoisonedError(
                "A previous request failed; this TrainingClient is poisoned and cannot accept further "
                "requests. Create a new training client (e.g. from the last saved state)."
            ) from self._error
        if self._counter > hi:
            raise RuntimeError(f"turn counter {self._counter} overshot {hi}")
        try:
            yield
        finally:
            self._counter += 1
            for event in self._waiters.pop(self._counter, []):
                event.set()

    def skip(self, count: int) -> None:
        """Advance past ids that will never be submitted (e.g. a call rejected before sending)."""
        for _ in range(count):
            self._counter += 1
            for event in self._waiters.pop(self._counter, []):
                event.set()
