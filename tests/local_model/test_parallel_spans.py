"""Large-vocabulary work in column spans (tinkerlite.local.parallel): the same results as the whole array
(to rounding), the same bits whether the spans run on a second core or inline, gradients still right.

The split threshold is lowered so the 19-id test model is split; the real one is 32,768 ids.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from tinkerlite.local import decode, parallel, unembed
from tinkerlite.local.model import LoraSpec, TinyTransformer
from tinkerlite.local.sampling import SampleRequest, SamplingParams, _stack_logits, sample_group

from ._helpers import TINY, ce_datum, tiny_model


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(parallel, "SPLIT_MIN_COLUMNS", 8)
    yield


def _run(batch: list, flags: dict[str, bool] | None = None, scale: float = 1.0) -> tuple[list, dict]:
    model = tiny_model(LoraSpec(rank=3, alpha=6.0, seed=5, **(flags or {})))
    model.base = {**model.base, "embed": model.base["embed"] * scale}
    outputs, _ = model.forward_backward(batch, "cross_entropy")
    return [o["logprobs"] for o in outputs], {k: v.copy() for k, v in model.grads.items()}


def test_spans_are_fixed_by_shape(split: None) -> None:
    assert parallel.spans(7) == [slice(0, 7)]
    assert parallel.spans(19) == [slice(0, 10), slice(10, 19)]
    assert parallel.spans(151_936) == [slice(0, 75_968), slice(75_968, 151_936)]


@pytest.mark.parametrize("scale", [1.0, 30.0])  # 30: row maxima outside the no-shift range
@pytest.mark.parametrize("flags", [{}, {"train_attn": False, "train_mlp": False}], ids=["all", "unembed-only"])
def test_split_head_equals_the_whole(monkeypatch: pytest.MonkeyPatch, scale: float, flags: dict[str, bool]) -> None:
    rng = np.random.default_rng(8)
    batch = [ce_datum(rng, 11, TINY.vocab_size), ce_datum(rng, 7, TINY.vocab_size, k=2)]
    lp_whole, grads_whole = _run(batch, flags, scale)
    monkeypatch.setattr(parallel, "SPLIT_MIN_COLUMNS", 8)
    lp_split, grads_split = _run(batch, flags, scale)
    for a, b in zip(lp_whole, lp_split, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for name in grads_whole:
        np.testing.assert_allclose(grads_whole[name], grads_split[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert any(np.abs(g).max() > 0 for g in grads_whole.values())


def test_split_bits_do_not_depend_on_the_core_count(monkeypatch: pytest.MonkeyPatch, split: None) -> None:
    rng = np.random.default_rng(2)
    batch = [ce_datum(rng, 10, TINY.vocab_size)]
    seen: set[str] = set()
    real = unembed.np.matmul

    def spy(*args: object, **kw: object) -> object:
        seen.add(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    monkeypatch.setattr(unembed.np, "matmul", spy)
    lp_two, grads_two = _run(batch)
    monkeypatch.setattr(unembed.np, "matmul", real)
    assert any(name.startswith("tinkerlite-span") for name in seen)  # a span really ran on the pool
    monkeypatch.setattr(parallel, "_cores", lambda: 1)
    lp_one, grads_one = _run(batch)
    assert all(np.array_equal(a, b) for a, b in zip(lp_two, lp_one, strict=True))
    assert all(np.array_equal(grads_two[k], grads_one[k]) for k in grads_two)


def test_split_gradients_match_central_differences(split: None) -> None:
    from .test_local_model_grads import _check_gradients

    rng = np.random.default_rng(4)
    _check_gradients(tiny_model(), [ce_datum(rng, 9, TINY.vocab_size)], "cross_entropy")


def test_busy_cores_run_spans_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    where: list[str] = []

    def fn(sl: slice) -> int:
        where.append(threading.current_thread().name)
        return sl.stop - sl.start

    parts = [slice(0, 3), slice(3, 5)]
    assert parallel.run_spans(fn, parts) == [3, 2]
    assert where[1].startswith("tinkerlite-span")  # one busy thread (the caller) of two cores: offloaded
    where.clear()
    with parallel.working(), parallel.working():  # both cores taken by scheduler jobs
        assert parallel.run_spans(fn, parts) == [3, 2]
    assert where == [threading.current_thread().name] * 2


def test_split_sampling_logits_and_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    h = rng.normal(size=(3, 4, TINY.d_model)).astype(np.float32)
    w = rng.normal(size=(TINY.vocab_size, TINY.d_model)).astype(np.float32)
    whole = _stack_logits(h, w)
    monkeypatch.setattr(parallel, "SPLIT_MIN_COLUMNS", 8)
    np.testing.assert_allclose(_stack_logits(h, w), whole, rtol=1e-6, atol=1e-6)
    assert _stack_logits(h, w).flags.c_contiguous

    model = tiny_model(dtype="float32")
    reqs = [SampleRequest([1, 2, 3], 4, SamplingParams(max_tokens=6, seed=s)) for s in (7, 8)]
    runs = []
    for cores in (2, 1):
        monkeypatch.setattr(parallel, "_cores", lambda c=cores: c)
        out = sample_group(model, reqs)
        runs.append([(s.tokens, s.logprobs) for r in out for s in r.sequences])  # type: ignore[union-attr]
    assert runs[0] == runs[1]


def test_decode_weights_cached_only_for_frozen_snapshots() -> None:
    model = TinyTransformer(TINY, LoraSpec(rank=2))
    assert decode.decode_weights(model) is not decode.decode_weights(model)  # a live model can change
    model.frozen_for_sampling = True  # type: ignore[attr-defined]
    first = decode.decode_weights(model)
    assert decode.decode_weights(model) is first
    other = TinyTransformer(TINY, LoraSpec(rank=2))
    other.frozen_for_sampling = True  # type: ignore[attr-defined]
    assert decode.decode_weights(other) is not first
    for _ in range(decode._CACHED + 1):  # bounded: the oldest is dropped
        m = TinyTransformer(TINY, LoraSpec(rank=2))
        m.frozen_for_sampling = True  # type: ignore[attr-defined]
        decode.decode_weights(m)
    assert len(decode._cache) <= decode._CACHED


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_spans_still_run_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_cores", lambda: 2)
    assert parallel.run_spans(lambda sl: sl.stop, [slice(0, 1), slice(1, 2)]) == [1, 2]  # the pool exists
    pid = os.fork()
    if pid == 0:  # the child: a span must run (an inherited pool without threads would hang here)
        ok = parallel.run_spans(lambda sl: sl.stop, [slice(0, 1), slice(1, 2)]) == [1, 2]
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("a span never ran in the forked child")
