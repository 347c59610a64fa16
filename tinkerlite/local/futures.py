"""Server-side futures: a result slot per request id, long-polled with a condition variable.

A poll waits until the result is set or the poll deadline passes (no busy loop: completion calls
``notify_all``). Completed futures are kept for ``ttl_s`` seconds and at most ``max_completed`` of them,
so a retried poll still finds its result while memory stays bounded; then they are forgotten. Each
future belongs to the user whose request created it; another user's poll finds nothing (404).
When every handler thread is busy the server calls :meth:`FutureStore.interrupt_waiters`, and pending
polls answer "try again" at once instead of holding their thread for the whole long poll.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from . import auth

__all__ = ["FutureState", "FutureStore"]

ResultKind = Literal["json", "fwdbwd", "sample"]


@dataclass
class FutureState:
    request_id: str
    kind: ResultKind
    done: bool = False
    value: Any = None
    error: str | None = None
    category: str = "user"
    owner: str = field(default_factory=auth.current_user)


class FutureStore:
    MIN_HOLD_S = 1.0

    def __init__(self, max_completed: int = 4096, ttl_s: float = 600.0) -> None:
        self._cond = threading.Condition()
        self._futures: dict[str, FutureState] = {}
        self._completed: OrderedDict[str, float] = OrderedDict()  # request id -> completion time
        self._max_completed = max_completed
        self._ttl_s = ttl_s
        self._counter = itertools.count(1)
        self._generation = 0

    def configure(self, max_completed: int, ttl_s: float) -> None:
        with self._cond:
            self._max_completed, self._ttl_s = max_completed, ttl_s
        self.sweep()

    def create(self, kind: ResultKind, prefix: str = "req") -> FutureState:
        with self._cond:
            rid = f"{prefix}-{next(self._counter)}"
            fut = FutureState(rid, kind)
            self._futures[rid] = fut
            return fut

    def resolve(self, fut: FutureState, value: Any) -> None:
        self._finish(fut, value, None, "user")

    def fail(self, fut: FutureState, error: str, category: str = "user") -> None:
        self._finish(fut, None, error, category)

    def _finish(self, fut: FutureState, value: Any, error: str | None, category: str) -> None:
        with self._cond:
            if fut.done:
                return
            fut.value, fut.error, fut.category, fut.done = value, error, category, True
            self._completed[fut.request_id] = time.monotonic()
            self._drop_old()
            self._cond.notify_all()

    def _drop_old(self) -> None:
        # Called with the lock held.
        cutoff = time.monotonic() - self._ttl_s
        while self._completed:
            old, at = next(iter(self._completed.items()))
            if len(self._completed) <= self._max_completed and at > cutoff:
                break
            del self._completed[old]
            self._futures.pop(old, None)

    def sweep(self) -> None:
        with self._cond:
            self._drop_old()

    def __len__(self) -> int:
        with self._cond:
            return len(self._futures)

    def get(self, request_id: str) -> FutureState | None:
        with self._cond:
            fut = self._futures.get(request_id)
        return fut if fut is not None and auth.may_see(fut.owner) else None

    def wait(self, request_id: str, timeout: float) -> FutureState | None:
        """The future once done, or still pending after ``timeout`` seconds; None if unknown.

        An interrupted poll still waits ``MIN_HOLD_S`` in all, so pollers that outnumber the handler
        threads take turns about once a second instead of spinning on instant "try again" answers.
        """
        start = time.monotonic()
        deadline = start + max(0.0, timeout)
        with self._cond:
            gen = self._generation
            fut = self._futures.get(request_id)
            if fut is not None and not auth.may_see(fut.owner):
                return None
            while fut is not None and not fut.done:
                if gen != self._generation:
                    gen = self._generation
                    deadline = min(deadline, start + self.MIN_HOLD_S)
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
                fut = self._futures.get(request_id)
            return fut

    def interrupt_waiters(self) -> None:
        """Make every poll now waiting return (pending) at once: the server needs their threads."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()
