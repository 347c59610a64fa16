"""Execution order: per-model strict ``seq_id`` order, idempotent submissions, a small worker pool.

Training submissions for one model run one at a time in ``seq_id`` order; a submission that arrives
early is held until every earlier ``seq_id`` has run (the official SDK sends chunk 1 of a batch last).
A resubmission of a ``(key, seq_id)`` already seen returns the first submission's future and does not
run again; the same holds for sampling keys. Failed operations still advance the sequence, so one bad
request never stalls a model.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .futures import FutureState, FutureStore

__all__ = ["OpError", "Scheduler", "SeqError"]

Job = Callable[[], object]


class OpError(Exception):
    """An operation failed; ``category`` is what the failed future reports ("user" or "server")."""

    def __init__(self, message: str, category: str = "user") -> None:
        super().__init__(message)
        self.category = category


class SeqError(Exception):
    """A submission's ``seq_id`` can never run (already passed and unknown)."""


@dataclass
class _Lane:
    next_seq: int
    held: dict[int, tuple[FutureState, Job]] = field(default_factory=dict)
    seen: dict[int, FutureState] = field(default_factory=dict)
    busy: bool = False


class Scheduler:
    def __init__(self, futures: FutureStore, workers: int = 2, max_held: int = 4096) -> None:
        self.futures = futures
        self._lock = threading.Lock()
        self._lanes: dict[str, _Lane] = {}
        self._idem: dict[tuple[str, int], FutureState] = {}
        self._queue: queue.Queue[tuple[str | None, FutureState, Job] | None] = queue.Queue()
        self._max_held = max_held
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"tinkerlite-worker-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # ---- training lanes ---------------------------------------------------------------------------------

    def open_lane(self, lane: str, next_seq: int = 1) -> None:
        with self._lock:
            self._lanes.setdefault(lane, _Lane(next_seq))

    def close_lane(self, lane: str) -> None:
        with self._lock:
            gone = self._lanes.pop(lane, None)
        if gone is not None:
            for fut, _ in gone.held.values():
                self.futures.fail(fut, "model was unloaded before this request ran", "user")

    def has_lane(self, lane: str) -> bool:
        with self._lock:
            return lane in self._lanes

    def submit_ordered(self, lane: str, seq_id: int, fut_factory: Callable[[], FutureState], job: Job) -> FutureState:
        """Run ``job`` on ``lane`` when every earlier ``seq_id`` has run; idempotent per ``seq_id``."""
        with self._lock:
            ln = self._lanes.get(lane)
            if ln is None:
                raise KeyError(lane)
            if seq_id in ln.seen:
                return ln.seen[seq_id]
            if seq_id < ln.next_seq:
                raise SeqError(f"seq_id {seq_id} already passed on {lane} (next expected {ln.next_seq})")
            if len(ln.held) >= self._max_held:
                raise SeqError(f"too many requests held for {lane} waiting for seq_id {ln.next_seq}")
            fut = fut_factory()
            ln.seen[seq_id] = fut
            ln.held[seq_id] = (fut, job)
            self._pump(lane, ln)
            return fut

    def _pump(self, lane: str, ln: _Lane) -> None:
        # Called with the lock held.
        if not ln.busy and ln.next_seq in ln.held:
            fut, job = ln.held.pop(ln.next_seq)
            ln.busy = True
            self._queue.put((lane, fut, job))

    def _lane_done(self, lane: str) -> None:
        with self._lock:
            ln = self._lanes.get(lane)
            if ln is None:
                return
            ln.busy = False
            ln.next_seq += 1
            # Keep the idempotency map bounded: forget futures far behind the head.
            for old in [s for s in ln.seen if s < ln.next_seq - 1024]:
                del ln.seen[old]
            self._pump(lane, ln)

    # ---- unordered work (sampling) ----------------------------------------------------------------------

    def submit_unordered(self, key: tuple[str, int], fut_factory: Callable[[], FutureState], job: Job) -> FutureState:
        with self._lock:
            fut = self._idem.get(key)
            if fut is not None:
                return fut
            fut = fut_factory()
            self._idem[key] = fut
            if len(self._idem) > 100_000:
                for k in list(self._idem)[:50_000]:
                    del self._idem[k]
            self._queue.put((None, fut, job))
            return fut

    # ---- workers ----------------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            lane, fut, job = item
            try:
                if self._closed:
                    raise OpError("the server is shutting down", "server")
                self.futures.resolve(fut, job())
            except OpError as e:
                self.futures.fail(fut, str(e), e.category)
            except (ValueError, KeyError, TypeError) as e:
                self.futures.fail(fut, f"{type(e).__name__}: {e}", "user")
            except Exception as e:  # the future must always complete, whatever the model does
                self.futures.fail(fut, f"internal error: {type(e).__name__}: {e}", "server")
            finally:
                if lane is not None:
                    self._lane_done(lane)

    def shutdown(self) -> None:
        self._closed = True  # queued work is failed, not run: shutdown must not wait on it
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=5)
