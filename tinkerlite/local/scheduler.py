"""Execution order: per-model strict ``seq_id`` order, idempotent submissions, a small worker pool.

Training submissions for one model run one at a time in ``seq_id`` order; a submission that arrives
early is held until every earlier ``seq_id`` has run (the official SDK sends chunk 1 of a batch last).
A resubmission of a ``(key, seq_id)`` already seen returns the first submission's future and does not
run again; the same holds for sampling keys. Failed operations still advance the sequence, so one bad
request never stalls a model. A ``seq_id`` that never arrives (its submission was refused before its
id could be read, or its client gave up) holds the lane for at most ``seq_hole_wait_s`` (longer than a
client's 300 s retry budget): then the requests queued behind it fail with an error naming it, and the
lane moves on.

Fairness: runnable work waits in one queue per user, and the workers take from the users in turn, so
one user's flood of sampling requests delays another user's training step by at most one job per user.
A user may have at most ``max_queued_samples_per_user`` sampling jobs waiting (429 beyond). Each job
runs in the :mod:`contextvars` context it was submitted from (so it acts as the submitting user).
Remembered sampling keys are bounded in count and age (``max_idem``, ``idem_ttl_s``).

Batching: an unordered job may carry a batch key and a runner. A worker that takes it also takes the other
waiting jobs with the same key (at most the batch's own limit and ``max_batch``, from every user's queue)
and hands them all to the runner, which returns one result (or exception) per job: sampling requests of
one model decode together. For fairness a batch counts as one turn, so its limit bounds how long another
user's job can wait behind it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from . import auth, parallel
from .futures import FutureState, FutureStore
from .limits import LimitError

__all__ = ["OpError", "Scheduler", "SeqError"]

Job = Callable[[], object]
BatchRunner = Callable[[list[Job]], list[object]]
"""Runs jobs of one batch key together: one result per job, an ``Exception`` instance for a failed one."""
Batch = tuple[Hashable, BatchRunner, int]
"""``(key, runner, most jobs in one batch)``."""
_Item = tuple[str | None, FutureState, Job, contextvars.Context, Batch | None]


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
    held: dict[int, tuple[FutureState, Job, contextvars.Context]] = field(default_factory=dict)
    seen: dict[int, FutureState] = field(default_factory=dict)
    busy: bool = False
    stalled_since: float | None = None  # monotonic time since when held work waits for a missing seq_id


class Scheduler:
    def __init__(
        self,
        futures: FutureStore,
        workers: int = 2,
        max_held: int = 4096,
        *,
        max_idem: int = 16384,
        idem_ttl_s: float = 600.0,
        max_queued_samples_per_user: int = 4096,
        seq_hole_wait_s: float = 360.0,
        max_batch: int = 16,
        batch_gather_s: float = 0.004,
    ) -> None:
        self.futures = futures
        self.max_batch, self.batch_gather_s = max_batch, batch_gather_s
        self._batch_sizes: OrderedDict[Hashable, int] = OrderedDict()  # key -> size of its last batch
        self.seq_hole_wait_s = seq_hole_wait_s
        self._lock = threading.Lock()
        self._lanes: dict[str, _Lane] = {}
        self._idem: OrderedDict[tuple[str, int], tuple[FutureState, float]] = OrderedDict()
        self._max_idem, self._idem_ttl_s = max_idem, idem_ttl_s
        self._max_samples = max_queued_samples_per_user
        self._ready: OrderedDict[str, deque[_Item]] = OrderedDict()  # user -> runnable jobs; order = turn
        self._queued_samples: dict[str, int] = {}
        self._work_cv = threading.Condition(self._lock)
        self._gather_cv = threading.Condition(self._lock)  # a worker gathering a batch waits here
        self._max_held = max_held
        self._closed = False
        self._stopping = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"tinkerlite-worker-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def configure(
        self,
        *,
        max_idem: int,
        idem_ttl_s: float,
        max_queued_samples_per_user: int,
        seq_hole_wait_s: float | None = None,
    ) -> None:
        with self._lock:
            self._max_idem, self._idem_ttl_s = max_idem, idem_ttl_s
            self._max_samples = max_queued_samples_per_user
            if seq_hole_wait_s is not None:
                self.seq_hole_wait_s = seq_hole_wait_s
            self._trim_idem()

    def _put(self, item: _Item) -> None:
        # Called with the lock held: queue on the submitting user's turn.
        user = item[1].owner
        self._ready.setdefault(user, deque()).append(item)
        self._work_cv.notify()
        if item[4] is not None:
            self._gather_cv.notify_all()

    def _take(self) -> _Item | None:
        # Called with the lock held: the first user in turn gives one job, then goes to the back.
        while True:
            if self._stopping and not self._ready:
                self._stopping -= 1
                return None
            if self._ready:
                user, q = next(iter(self._ready.items()))
                item = q.popleft()
                if q:
                    self._ready.move_to_end(user)
                else:
                    del self._ready[user]
                if item[0] is None:
                    self._sample_taken(user)
                return item
            self._work_cv.wait()

    def _sample_taken(self, user: str) -> None:
        # Called with the lock held.
        self._queued_samples[user] = self._queued_samples.get(user, 1) - 1
        if self._queued_samples[user] <= 0:
            del self._queued_samples[user]

    def _gather(self, key: Hashable, limit: int) -> list[_Item]:
        """Called with the lock held, for a job keyed ``key`` just taken: the waiting jobs to run with it.

        When fewer are waiting than this key's last batch had, wait up to ``batch_gather_s`` for the rest:
        clients that were served together come back at nearly the same time, and a worker that starts
        without them would leave them to form a smaller batch behind it.
        """
        most = min(limit, self.max_batch)
        found = self._take_batch(key, most - 1)
        want = min(self._batch_sizes.get(key, 1), most)
        deadline = time.monotonic() + self.batch_gather_s
        while len(found) + 1 < want and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._gather_cv.wait(left)
            found += self._take_batch(key, most - 1 - len(found))
        self._batch_sizes[key] = len(found) + 1
        self._batch_sizes.move_to_end(key)
        while len(self._batch_sizes) > 1024:
            self._batch_sizes.popitem(last=False)
        return found

    def _take_batch(self, key: Hashable, limit: int) -> list[_Item]:
        """Called with the lock held: remove and return up to ``limit`` waiting jobs keyed ``key``."""
        found: list[_Item] = []
        if limit <= 0:
            return found
        for user in list(self._ready):
            q = self._ready[user]
            if not any(it[4] is not None and it[4][0] == key for it in q):
                continue
            kept: deque[_Item] = deque()
            for it in q:
                if len(found) < limit and it[4] is not None and it[4][0] == key:
                    found.append(it)
                    self._sample_taken(user)
                else:
                    kept.append(it)
            if kept:
                self._ready[user] = kept
            else:
                del self._ready[user]
            if len(found) >= limit:
                break
        return found

    def _trim_idem(self) -> None:
        # Called with the lock held.
        cutoff = time.monotonic() - self._idem_ttl_s
        while self._idem:
            key, (_, at) = next(iter(self._idem.items()))
            if len(self._idem) <= self._max_idem and at > cutoff:
                break
            del self._idem[key]

    def sweep(self) -> None:
        failed: list[tuple[FutureState, str]] = []
        with self._lock:
            self._trim_idem()
            now = time.monotonic()
            for lane, ln in self._lanes.items():
                if ln.stalled_since is None or now - ln.stalled_since < self.seq_hole_wait_s:
                    continue
                missing, waited = ln.next_seq, now - ln.stalled_since
                for seq in sorted(ln.held):
                    msg = (
                        f"seq_id {missing} never arrived on {lane} (waited {waited:.0f} s); seq_id {seq} was "
                        f"queued behind it and did not run. Later requests run again."
                    )
                    failed.append((ln.held[seq][0], msg))
                ln.next_seq = max(ln.held) + 1
                ln.held.clear()
                ln.stalled_since = None
        for fut, msg in failed:
            self.futures.fail(fut, msg, "user")

    # ---- training lanes ---------------------------------------------------------------------------------

    def open_lane(self, lane: str, next_seq: int = 1) -> None:
        with self._lock:
            self._lanes.setdefault(lane, _Lane(next_seq))

    def close_lane(self, lane: str) -> None:
        with self._lock:
            gone = self._lanes.pop(lane, None)
        if gone is not None:
            for fut, _, _ in gone.held.values():
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
            ln.held[seq_id] = (fut, job, contextvars.copy_context())
            self._pump(lane, ln)
            return fut

    def _pump(self, lane: str, ln: _Lane) -> None:
        # Called with the lock held.
        if not ln.busy and ln.next_seq in ln.held:
            fut, job, ctx = ln.held.pop(ln.next_seq)
            ln.busy = True
            self._put((lane, fut, job, ctx, None))
        if ln.busy or not ln.held:
            ln.stalled_since = None
        elif ln.stalled_since is None:
            ln.stalled_since = time.monotonic()  # work is held for a seq_id nobody has sent (yet)

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

    def submit_unordered(
        self,
        key: tuple[str, int] | None,
        fut_factory: Callable[[], FutureState],
        job: Job,
        batch: Batch | None = None,
    ) -> FutureState:
        """Queue ``job``; a repeated ``key`` returns the first future (None or ``anon-*``: never repeated).

        ``batch`` (a key and a runner) lets a worker run this job together with others of the same key.
        """
        if key is not None and key[0].startswith("anon-"):
            key = None  # anonymous requests cannot be retried by key: remembering them only costs memory
        user = auth.current_user()
        with self._lock:
            if key is not None:
                hit = self._idem.get(key)
                if hit is not None and auth.may_see(hit[0].owner):
                    return hit[0]
            waiting = self._queued_samples.get(user, 0)
            if waiting >= self._max_samples:
                raise LimitError(
                    429, "max_queued_samples_per_user", f"user {user!r} has {waiting} sampling requests waiting"
                )
            fut = fut_factory()
            if key is not None:
                self._idem[key] = (fut, time.monotonic())
                self._trim_idem()
            self._queued_samples[fut.owner] = self._queued_samples.get(fut.owner, 0) + 1
            self._put((None, fut, job, contextvars.copy_context(), batch))
            return fut

    # ---- workers ----------------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                item = self._take()
                batch = item[4] if item is not None else None
                others = self._gather(batch[0], batch[2]) if batch is not None and self.max_batch > 1 else []
            if item is None:
                return
            if others and batch is not None:
                with parallel.working():
                    self._run_batch([item, *others], batch[1])
                continue
            lane, fut, job, ctx, _ = item
            try:
                if self._closed:
                    raise OpError("the server is shutting down", "server")
                with parallel.working():
                    result = ctx.run(job)
                self.futures.resolve(fut, result)
            except Exception as e:
                self._fail(fut, e)
            finally:
                if lane is not None:
                    self._lane_done(lane)

    def _fail(self, fut: FutureState, e: BaseException) -> None:
        if isinstance(e, OpError):
            self.futures.fail(fut, str(e), e.category)
        elif isinstance(e, (ValueError, KeyError, TypeError)):
            self.futures.fail(fut, f"{type(e).__name__}: {e}", "user")
        else:  # the future must always complete, whatever the model does
            self.futures.fail(fut, f"internal error: {type(e).__name__}: {e}", "server")

    def _run_batch(self, items: list[_Item], runner: BatchRunner) -> None:
        """Run unordered ``items`` of one batch key in the first one's context; complete every future."""
        results: list[object]
        try:
            if self._closed:
                raise OpError("the server is shutting down", "server")
            results = items[0][3].run(runner, [it[2] for it in items])
        except Exception as e:
            results = [e] * len(items)
        for it, res in zip(items, results, strict=True):
            if isinstance(res, Exception):
                self._fail(it[1], res)
            else:
                self.futures.resolve(it[1], res)

    def shutdown(self) -> None:
        self._closed = True  # queued work is failed, not run: shutdown must not wait on it
        with self._lock:
            self._stopping += len(self._threads)
            self._work_cv.notify_all()
        for t in self._threads:
            t.join(timeout=5)
