"""Sampling of small models in worker processes, so concurrent sampling requests use every core.

A small model's decode step is dozens of short numpy calls, and two threads running them hand the GIL
back and forth at every call: two threads decoding ran fewer steps per second than one (bench/README.md).
Worker processes (:mod:`.sample_worker`) each have their own GIL. The pool starts only once two sampling
batches run at the same time, so a server that samples one request at a time never starts a process;
from then on every eligible batch goes to an idle worker (one per core), and runs in the calling thread
when none is idle, a worker is still starting, or a worker fails. Workers run the same code with the same
numpy and one BLAS thread, so a request's tokens and log-probs are the same bits in a worker or in the
server (the load test compares every concurrent client with its solo run).

Eligible: a model the service marked ``frozen_for_sampling`` (it has a ``sampling_key``), small enough to
ship (``MAX_MODEL_BYTES``; large vocabularies use both cores through :mod:`.parallel` instead), and no
stop-string callback (it needs the server's tokenizer). ``TINKERLITE_SAMPLE_PROCS=0`` turns the pool off.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import parallel
from .sample_worker import MODELS_KEPT, read_frame, write_frame

__all__ = ["MAX_MODEL_BYTES", "SamplePool", "pool"]

MAX_MODEL_BYTES = 64 << 20
MAX_FAILURES = 3

logger = logging.getLogger("tinkerlite.local")


def _model_bytes(model: Any) -> int:
    return int(sum(a.nbytes for a in model.base.values()) + sum(a.nbytes for a in model.params.values()))


class _Worker:
    """One worker process and the model keys it holds (mirroring its own bounded cache)."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the directory holding the tinkerlite package
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tinkerlite.local.sample_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if os.environ.get("TINKERLITE_DEBUG") else subprocess.DEVNULL,
            env=env,
        )
        self.models: OrderedDict[str, None] = OrderedDict()
        assert self.proc.stdout is not None
        if read_frame(self.proc.stdout) != ("ready",):
            self.kill()
            raise OSError("the sampling worker did not start")

    def run(self, key: str, model: Any, requests: Sequence[Any]) -> list[Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        reply: Any = None
        for send in (key not in self.models, True):  # resend the model if the worker no longer has it
            write_frame(self.proc.stdin, (key, model if send else None, list(requests)))
            reply = read_frame(self.proc.stdout)
            if reply is None:
                raise OSError("the sampling worker exited")
            if reply[0] == "ok":
                break
        if reply[0] != "ok":
            raise OSError(f"unexpected reply from the sampling worker: {reply[0]!r}")
        self.models[key] = None
        self.models.move_to_end(key)
        while len(self.models) > MODELS_KEPT:
            self.models.popitem(last=False)
        results: list[Any] = reply[1]
        return results

    def kill(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class SamplePool:
    """Up to ``size`` sampling workers, started in the background once sampling runs concurrently."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size if size is not None else max(1, parallel._cores())
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._workers = 0  # started or starting
        self._running = 0  # batches in sample_group right now, wherever they run
        self._closed = False
        self._failures = 0  # workers that would not start or died; at MAX_FAILURES the pool turns off
        self.enabled = os.environ.get("TINKERLITE_SAMPLE_PROCS", "1") != "0" and self.size > 1

    def sample_group(self, model: Any, requests: Sequence[Any]) -> list[Any]:
        """:func:`~tinkerlite.local.sampling.sample_group`, in a worker process where it pays."""
        from .sampling import sample_group

        with self._lock:
            self._running += 1
            concurrent = self._running > 1 or self._workers > 0
        try:
            worker = self._take() if concurrent and self._eligible(model, requests) else None
            if worker is None:
                return sample_group(model, requests)
            try:
                results = worker.run(model.sampling_key, model, requests)
            except (OSError, EOFError, ValueError, TypeError):  # a dead or confused worker: do it here
                self._discard(worker)
                return sample_group(model, requests)
            self._give_back(worker)
            redo = [i for i, r in enumerate(results) if r is None]
            if redo:  # rejected in the worker: run here again for the exact error
                again = sample_group(model, [requests[i] for i in redo])
                for i, r in zip(redo, again, strict=True):
                    results[i] = r
            return results
        finally:
            with self._lock:
                self._running -= 1

    def _eligible(self, model: Any, requests: Sequence[Any]) -> bool:
        return (
            self.enabled
            and getattr(model, "frozen_for_sampling", False)
            and isinstance(getattr(model, "sampling_key", None), str)
            and model.config.vocab_size < parallel.SPLIT_MIN_COLUMNS
            and all(r.should_stop is None for r in requests)
            and _model_bytes(model) <= MAX_MODEL_BYTES
        )

    def _take(self) -> _Worker | None:
        with self._lock:
            if self._closed:
                return None
            if self._idle:
                return self._idle.pop()
            if self._workers < self.size:
                self._workers += 1
                threading.Thread(target=self._start_one, name="tinkerlite-sample-worker-start", daemon=True).start()
        return None

    def _start_one(self) -> None:
        try:
            worker = _Worker()
        except OSError:
            self._failed()
            return
        self._give_back(worker)

    def _failed(self) -> None:
        with self._lock:
            self._workers -= 1  # a later concurrent batch starts a fresh one...
            self._failures += 1
            if self._failures >= MAX_FAILURES and self.enabled:  # ...unless they keep failing
                self.enabled = False
                logger.warning(
                    "sampling worker processes failed %d times; sampling stays in the server process", MAX_FAILURES
                )

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.kill()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self._failed()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


_pool: SamplePool | None = None
_pool_lock = threading.Lock()


def pool() -> SamplePool:
    """The process-wide pool (servers in one process share it); closed at exit."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = SamplePool()
            atexit.register(_pool.close)
        return _pool


def _after_fork_in_child() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # the parent's workers answer the parent only


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
