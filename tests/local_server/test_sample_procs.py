"""Sampling worker processes (tinkerlite.local.sample_procs): the same bits as decoding in the server, a
pool that starts only under concurrency, and every failure ending in a correct answer from the server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from tinkerlite.local import sample_procs, sampling  # noqa: E402
from tinkerlite.local.base_models import _BUILTIN  # noqa: E402
from tinkerlite.local.model import LoraSpec, TinyTransformer  # noqa: E402
from tinkerlite.local.sampling import SampleRequest, SamplingParams  # noqa: E402


def _model(frozen: bool = True) -> TinyTransformer:
    model = TinyTransformer(_BUILTIN.model_config(), LoraSpec(rank=4))
    rng = np.random.default_rng(7)
    for arr in model.params.values():
        arr[...] = rng.normal(0.0, 0.05, arr.shape)
    if frozen:
        model.frozen_for_sampling = True  # type: ignore[attr-defined]
        model.sampling_key = uuid.uuid4().hex  # type: ignore[attr-defined]
    return model


def _requests(seed: int = 1, n: int = 3) -> list[SampleRequest]:
    return [SampleRequest(list(range(40, 60)), 4, SamplingParams(max_tokens=12, seed=seed + i)) for i in range(n)]


def _bits(results: list[Any]) -> list[Any]:
    return [
        repr(r) if isinstance(r, Exception) else [(s.tokens, [x.hex() for x in s.logprobs]) for s in r.sequences]
        for r in results
    ]


@pytest.fixture
def pool() -> Iterator[sample_procs.SamplePool]:
    p = sample_procs.SamplePool(size=2)
    p.enabled = True
    yield p
    p.close()


def _warm(p: sample_procs.SamplePool, n: int = 1, timeout: float = 60) -> None:
    """Start ``n`` workers (what a second concurrent batch does) and wait until they are idle."""
    for _ in range(n):
        assert p._take() is None
    deadline = time.monotonic() + timeout
    while len(p._idle) < n:
        assert time.monotonic() < deadline, "the sampling workers did not start"
        time.sleep(0.02)


def test_no_worker_starts_without_concurrency(pool: sample_procs.SamplePool) -> None:
    model = _model()
    for seed in range(3):
        pool.sample_group(model, _requests(seed))
    assert pool._workers == 0 and not pool._idle


def test_worker_results_are_the_server_bits(pool: sample_procs.SamplePool) -> None:
    model, reqs = _model(), _requests()
    want = _bits(sampling.sample_group(model, reqs))
    _warm(pool)
    worker = pool._idle[0]
    assert _bits(pool.sample_group(model, reqs)) == want
    assert list(worker.models) == [model.sampling_key]  # it really ran there (and keeps the model)
    assert _bits(pool.sample_group(model, _requests())) == want  # the second job sends no model


def test_concurrent_batches_start_workers_and_agree(pool: sample_procs.SamplePool) -> None:
    model = _model()
    want = {seed: _bits(sampling.sample_group(model, _requests(seed))) for seed in range(8)}
    got: dict[int, Any] = {}

    def client(seeds: range) -> None:
        for seed in seeds:
            got[seed] = _bits(pool.sample_group(model, _requests(seed)))

    deadline = time.monotonic() + 60
    while pool._workers == 0 and time.monotonic() < deadline:  # until two batches overlapped once
        threads = [threading.Thread(target=client, args=(range(k, 8, 2),)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == want
    assert pool._workers > 0


def test_a_dead_worker_costs_no_answer(pool: sample_procs.SamplePool) -> None:
    model, reqs = _model(), _requests()
    want = _bits(sampling.sample_group(model, reqs))
    _warm(pool)
    pool._idle[0].proc.kill()
    pool._idle[0].proc.wait()
    assert _bits(pool.sample_group(model, reqs)) == want  # answered in the server instead
    assert pool._workers == 0 and not pool._idle  # the dead one is gone; a later overlap starts another


def test_a_rejected_request_gets_the_servers_own_error(pool: sample_procs.SamplePool) -> None:
    model = _model()
    bad = SampleRequest([_BUILTIN.vocab_size + 5], 2, SamplingParams(max_tokens=3, seed=1))  # out-of-range id
    reqs = [*_requests(n=1), bad]
    want = _bits(sampling.sample_group(model, reqs))
    assert want[1].startswith("ValidationError")
    _warm(pool)
    assert _bits(pool.sample_group(model, reqs)) == want


def test_a_worker_that_lost_the_model_is_sent_it_again(pool: sample_procs.SamplePool) -> None:
    model, reqs = _model(), _requests()
    want = _bits(sampling.sample_group(model, reqs))
    _warm(pool)
    pool._idle[0].models[model.sampling_key] = None  # the parent believes the worker has it; it has not
    assert _bits(pool.sample_group(model, reqs)) == want


def test_what_stays_in_the_server(pool: sample_procs.SamplePool, monkeypatch: pytest.MonkeyPatch) -> None:
    reqs = _requests()
    assert pool._eligible(_model(), reqs)
    assert not pool._eligible(_model(frozen=False), reqs)  # a live model can change under a worker's copy
    with_stop = [SampleRequest(r.prompt, r.num_samples, r.params, should_stop=lambda toks: False) for r in reqs]
    assert not pool._eligible(_model(), with_stop)  # the stop-string callback needs the server's tokenizer
    monkeypatch.setattr(sample_procs, "MAX_MODEL_BYTES", 1)
    assert not pool._eligible(_model(), reqs)
    monkeypatch.setenv("TINKERLITE_SAMPLE_PROCS", "0")
    assert not sample_procs.SamplePool(size=2).enabled


def test_close_ends_the_workers(pool: sample_procs.SamplePool) -> None:
    _warm(pool, 2)
    procs = [w.proc for w in pool._idle]
    pool.close()
    assert all(p.poll() is not None for p in procs)
    assert pool._take() is None and pool._workers == 2  # closed: nothing new starts


def test_workers_that_keep_failing_turn_the_pool_off(
    pool: sample_procs.SamplePool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError("no interpreter")

    monkeypatch.setattr(sample_procs, "_Worker", broken)
    for _ in range(sample_procs.MAX_FAILURES):
        assert pool._take() is None
        deadline = time.monotonic() + 10
        while pool._workers and time.monotonic() < deadline:
            time.sleep(0.01)
    assert not pool.enabled and pool._workers == 0
    model = _model()
    assert _bits(pool.sample_group(model, _requests())) == _bits(sampling.sample_group(model, _requests()))
