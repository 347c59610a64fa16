"""Server-side futures: a result slot per request id, long-polled with a condition variable.

A poll waits until the result is set or the poll deadline passes (no busy loop: completion calls
``notify_all``). Completed futures are kept for the last ``max_completed`` completions so that a retried
poll still finds its result, then forgotten.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

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


class FutureStore:
    def __init__(self, max_completed: int = 4096) -> None:
        self._cond = threading.Condition()
        self._futures: dict[str, FutureState] = {}
        self._completed: OrderedDict[str, None] = OrderedDict()
        self._max_completed = max_completed
        self._counter = itertools.count(1)

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
            self._completed[fut.request_id] = None
            while len(self._completed) > self._max_completed:
                old, _ = self._completed.popitem(last=False)
                self._futures.pop(old, None)
            self._cond.notify_all()

    def get(self, request_id: str) -> FutureState | None:
        with self._cond:
            return self._futures.get(request_id)

    def wait(self, request_id: str, timeout: float) -> FutureState | None:
        """The future once done, or still pending after ``timeout`` seconds; None if unknown."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            fut = self._futures.get(request_id)
            while fut is not None and not fut.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
                fut = self._futures.get(request_id)
            return fut

    def wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()
