"""Scheduler batching: waiting unordered jobs with one batch key run together, each future gets its own
result or error, batches respect their limit, and a batch counts as one turn for fairness."""

from __future__ import annotations

import threading
import time

from tinkerlite.local.futures import FutureState, FutureStore
from tinkerlite.local.scheduler import OpError, Scheduler


def _wait(futs: list[FutureState], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(f.done for f in futs):
        assert time.monotonic() < deadline, "futures did not complete"
        time.sleep(0.005)


def test_waiting_jobs_of_one_key_run_as_one_batch() -> None:
    futures = FutureStore()
    sched = Scheduler(futures, workers=1, batch_gather_s=0.0)
    gate = threading.Event()
    batches: list[list[object]] = []

    def runner(jobs: list[object]) -> list[object]:
        batches.append([j() for j in jobs])  # type: ignore[operator]
        return [ValueError("bad job") if v == "bad" else v for v in batches[-1]]

    try:
        blocker = sched.submit_unordered(None, lambda: futures.create("json"), lambda: gate.wait(10))
        time.sleep(0.05)  # the only worker is now busy: everything below waits in the queue
        futs = []
        for i, value in enumerate(["a", "bad", "c", "d", "e"]):
            key = ("k", 3) if i < 4 else ("other", 3)
            futs.append(
                sched.submit_unordered(None, lambda: futures.create("json"), lambda v=value: v, (key, runner, 3))
            )
        gate.set()
        _wait([blocker, *futs])
    finally:
        sched.shutdown()
    # Key "k": at most 3 per batch, in submission order; the other key's job ran on its own (no runner).
    assert batches == [["a", "bad", "c"]]
    assert [f.value for f in futs] == ["a", None, "c", "d", "e"]
    assert futs[1].error is not None and "bad job" in futs[1].error and futs[1].category == "user"


def test_a_failing_runner_fails_every_job_of_its_batch() -> None:
    futures = FutureStore()
    sched = Scheduler(futures, workers=1, batch_gather_s=0.0)
    gate = threading.Event()

    def runner(jobs: list[object]) -> list[object]:
        raise OpError("model exploded", "server")

    try:
        sched.submit_unordered(None, lambda: futures.create("json"), lambda: gate.wait(10))
        time.sleep(0.05)
        futs = [
            sched.submit_unordered(None, lambda: futures.create("json"), lambda: 1, ("k", runner, 8)) for _ in range(3)
        ]
        gate.set()
        _wait(futs)
    finally:
        sched.shutdown()
    assert all(f.error == "model exploded" and f.category == "server" for f in futs)


def test_a_worker_gathers_clients_that_come_back_together() -> None:
    """After a batch of 3, a lone arrival waits (briefly) for the other two instead of running alone."""
    futures = FutureStore()
    sched = Scheduler(futures, workers=1, batch_gather_s=2.0)
    sizes: list[int] = []

    def runner(jobs: list[object]) -> list[object]:
        sizes.append(len(jobs))
        return [j() for j in jobs]  # type: ignore[operator]

    def submit() -> FutureState:
        return sched.submit_unordered(None, lambda: futures.create("json"), lambda: 0, ("k", runner, 8))

    try:
        gate = threading.Event()
        sched.submit_unordered(None, lambda: futures.create("json"), lambda: gate.wait(10))
        time.sleep(0.05)
        first = [submit() for _ in range(3)]
        gate.set()
        _wait(first)
        lone = submit()  # taken at once; the worker gathers for up to 2 s
        time.sleep(0.2)
        assert not lone.done
        rest = [submit(), submit()]
        _wait([lone, *rest])
    finally:
        sched.shutdown()
    assert sizes == [3, 3]
