"""Large-vocabulary numpy work split in fixed column spans, run on a second core when there is one.

BLAS is held to one thread (:mod:`.blas`), so a single request's ``[rows, V]`` products used one core while
the other idled. numpy releases the GIL inside products and ufunc loops, so running the spans of one
product in two threads uses both cores. The split depends only on the array's shape, never on how many
cores there are or how busy they are: a result is the same bits on one core or two, solo or under load.
Whether a span runs on the pool or inline depends on load: the scheduler's workers count themselves busy
(:func:`working`), and a span goes to the pool only while fewer compute threads than cores are at work, so
concurrent requests already filling the cores are not slowed by handoffs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["SPLIT_MIN_COLUMNS", "run_spans", "spans", "working"]

T = TypeVar("T")

SPLIT_MIN_COLUMNS = 32768
"""Narrower arrays stay whole: below this a product is too short to pay for a thread handoff."""

_PARTS = 2
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_busy = 0  # compute threads at work: scheduler jobs inside working(), plus spans running on the pool
_busy_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A forked child has none of the parent's pool threads: a pool inherited as it is would queue spans
    # that never run. Start over (the locks too: another thread may have held one at the fork).
    global _pool, _pool_lock, _busy, _busy_lock
    _pool, _pool_lock, _busy, _busy_lock = None, threading.Lock(), 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def spans(n: int) -> list[slice]:
    """``[0, n)`` as the fixed spans its work is split into: one below :data:`SPLIT_MIN_COLUMNS`, else two."""
    if n < SPLIT_MIN_COLUMNS:
        return [slice(0, n)]
    half = (n + _PARTS - 1) // _PARTS
    return [slice(lo, min(lo + half, n)) for lo in range(0, n, half)]


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, _cores()), thread_name_prefix="tinkerlite-span")
        return _pool


@contextmanager
def working() -> Iterator[None]:
    """Count the calling thread as a busy compute thread while the block runs (the scheduler's jobs)."""
    global _busy
    with _busy_lock:
        _busy += 1
    try:
        yield
    finally:
        with _busy_lock:
            _busy -= 1


def _reserve(cores: int) -> bool:
    global _busy
    with _busy_lock:
        if _busy + 1 > cores:  # the caller itself is one of the busy
            return False
        _busy += 1
        return True


def _release() -> None:
    global _busy
    with _busy_lock:
        _busy -= 1


def run_spans(fn: Callable[[slice], T], parts: list[slice]) -> list[T]:
    """``[fn(s) for s in parts]``; a part after the first goes to the pool while a core is free."""
    cores = _cores()
    if len(parts) == 1 or cores < 2:
        return [fn(s) for s in parts]

    def offloaded(sl: slice) -> T:
        try:
            return fn(sl)
        finally:
            _release()

    pending: list[tuple[slice, Future[T] | None]] = []
    for sl in parts[1:]:
        pending.append((sl, _executor().submit(offloaded, sl) if _reserve(cores) else None))
    out = [fn(parts[0])]
    out += [fn(sl) if fut is None else fut.result() for sl, fut in pending]
    return out
