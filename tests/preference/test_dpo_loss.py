"""The closed-form DPO gradient: finite differences, backend agreement, stability, the custom-loss contract."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinkerlite.errors import ValidationError
from tinkerlite.preference.dpo_loss import dpo_loss_and_grads, make_dpo_loss_fn, split_pairs
from tinkerlite.types import Datum, ModelInput, TensorData


def _case(seed: int, n_pairs: int) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, list[list[float]]] = {k: [] for k in ("lc", "lr", "rc", "rr", "wc", "wr")}
    for _ in range(n_pairs):
        for lp, ref, w in (("lc", "rc", "wc"), ("lr", "rr", "wr")):
            n = rng.randrange(1, 12)
            out[lp].append([-rng.expovariate(1.0) for _ in range(n)])
            out[ref].append([-rng.expovariate(1.0) for _ in range(n)])
            out[w].append([rng.choice([0.0, 1.0, 0.5, 1.3]) for _ in range(n)])
    return out


def _loss(c: dict[str, Any], beta: float) -> float:
    return dpo_loss_and_grads(c["lc"], c["lr"], c["rc"], c["rr"], c["wc"], c["wr"], beta).loss


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_gradient_matches_central_finite_differences(backend: str, seed: int, beta: float) -> None:
    c = _case(seed, 1 + seed % 4)
    res = dpo_loss_and_grads(c["lc"], c["lr"], c["rc"], c["rr"], c["wc"], c["wr"], beta)
    h = 1e-5
    for key, grads in (("lc", res.chosen_grads), ("lr", res.rejected_grads)):
        for i, seq in enumerate(c[key]):
            for t in range(len(seq)):
                orig = seq[t]
                seq[t] = orig + h
                up = _loss(c, beta)
                seq[t] = orig - h
                down = _loss(c, beta)
                seq[t] = orig
                fd = (up - down) / (2 * h)
                assert math.isclose(grads[i][t], fd, rel_tol=1e-5, abs_tol=1e-8), (key, i, t, grads[i][t], fd)


def test_reference_logprobs_get_no_gradient_but_shift_the_loss(backend: str) -> None:
    c = _case(7, 3)
    c["wc"][0][0] = 1.0
    base = _loss(c, 0.5)
    c["rc"][0][0] -= 1.0  # lower chosen reference: larger chosen log-ratio, smaller loss
    assert _loss(c, 0.5) < base


def test_metrics_follow_the_cookbook_definitions(backend: str) -> None:
    # One pair where chosen beats rejected by 2 nats of log-ratio, one where it loses by 1.
    lc, rc = [[-1.0, -1.0]], [[-2.0, -2.0]]  # Δc = 2
    lr, rr = [[-3.0]], [[-3.0]]  # Δr = 0
    lc.append([-1.0])
    rc.append([-1.0])  # Δc = 0
    lr.append([-1.0])
    rr.append([-2.0])  # Δr = 1
    w = [[1.0, 1.0], [1.0]]
    res = dpo_loss_and_grads(lc, lr, rc, rr, w, [[1.0], [1.0]], beta=0.5)
    z = [0.5 * 2.0, 0.5 * -1.0]
    assert res.metrics["accuracy"] == 0.5
    assert math.isclose(res.metrics["margin"], sum(z) / 2)
    assert math.isclose(res.metrics["chosen_reward"], 0.5 * (2.0 + 0.0) / 2)
    assert math.isclose(res.metrics["rejected_reward"], 0.5 * (0.0 + 1.0) / 2)
    expected = sum(math.log1p(math.exp(-x)) for x in z) / 2
    assert math.isclose(res.metrics["dpo_loss"], expected, rel_tol=1e-12)
    assert res.loss == res.metrics["dpo_loss"]


def test_ties_count_as_not_accurate_like_the_cookbook(backend: str) -> None:
    res = dpo_loss_and_grads([[-1.0]], [[-1.0]], [[-1.0]], [[-1.0]], [[1.0]], [[1.0]], 0.1)
    assert res.metrics["accuracy"] == 0.0
    assert math.isclose(res.loss, math.log(2))
    assert math.isclose(res.chosen_grads[0][0], -0.1 * 0.5)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_extreme_margins_stay_finite(backend: str, sign: float) -> None:
    lc = [[sign * 500.0, sign * 500.0]]
    res = dpo_loss_and_grads(lc, [[-1.0]], [[0.0, 0.0]], [[0.0]], [[1.0, 1.0]], [[1.0]], 2.0)
    assert math.isfinite(res.loss)
    assert all(math.isfinite(g) for g in res.chosen_grads[0] + res.rejected_grads[0])
    if sign > 0:  # z ≈ 2002: loss ≈ 0 and no gradient
        assert res.loss < 1e-300 or res.loss == 0.0
        assert abs(res.chosen_grads[0][0]) < 1e-300
    else:  # z ≈ −1998: loss ≈ −z, gradient saturates at β/B
        assert math.isclose(res.loss, 2.0 * (1000.0 - 1.0) + 0.0, rel_tol=1e-9)
        assert math.isclose(res.chosen_grads[0][0], -2.0, rel_tol=1e-12)
        assert math.isclose(res.rejected_grads[0][0], 2.0, rel_tol=1e-12)


def test_backends_agree() -> None:
    pytest.importorskip("numpy")
    from tinkerlite.backend import get_backend, set_backend

    c = _case(11, 5)
    before = get_backend().name
    try:
        set_backend("pure")
        a = dpo_loss_and_grads(c["lc"], c["lr"], c["rc"], c["rr"], c["wc"], c["wr"], 0.3)
        set_backend("numpy")
        b = dpo_loss_and_grads(c["lc"], c["lr"], c["rc"], c["rr"], c["wc"], c["wr"], 0.3)
    finally:
        set_backend(before)
    assert math.isclose(a.loss, b.loss, rel_tol=1e-12)
    for k in a.metrics:
        assert math.isclose(a.metrics[k], b.metrics[k], rel_tol=1e-12, abs_tol=1e-15), k
    for ga, gb in zip(a.chosen_grads + a.rejected_grads, b.chosen_grads + b.rejected_grads, strict=True):
        assert all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-18) for x, y in zip(ga, gb, strict=True))


def _datum(weights: list[float]) -> Datum:
    n = len(weights)
    return Datum(
        model_input=ModelInput.from_ints(list(range(n))),
        loss_fn_inputs={
            "target_tokens": TensorData(list(range(1, n + 1)), "int64", [n]),
            "weights": TensorData(weights, "float32", [n]),
        },
    )


def test_custom_loss_fn_returns_interleaved_grads(backend: str) -> None:
    c = _case(3, 3)
    data, logprobs, refs = [], [], []
    for i in range(3):
        data += [_datum(c["wc"][i]), _datum(c["wr"][i])]
        logprobs += [c["lc"][i], c["lr"][i]]
        refs += [c["rc"][i], c["rr"][i]]
    loss, metrics, grads = make_dpo_loss_fn(refs, 0.7)(data, logprobs)
    # the datums carry float32 weights: the reference computation must use those rounded values
    wc = [list(d.loss_fn_inputs["weights"].dense_flat()) for d in data[0::2]]
    wr = [list(d.loss_fn_inputs["weights"].dense_flat()) for d in data[1::2]]
    res = dpo_loss_and_grads(c["lc"], c["lr"], c["rc"], c["rr"], wc, wr, 0.7)
    assert loss == res.loss and metrics == res.metrics
    assert grads[0::2] == res.chosen_grads and grads[1::2] == res.rejected_grads
    assert all(len(g) == len(d.loss_fn_inputs["weights"].dense_flat()) for g, d in zip(grads, data, strict=True))


def test_bad_shapes_are_named() -> None:
    with pytest.raises(ValidationError, match="odd number"):
        split_pairs([1, 2, 3])
    with pytest.raises(ValidationError, match=r"chosen\[0\]"):
        dpo_loss_and_grads([[-1.0, -2.0]], [[-1.0]], [[-1.0, -2.0]], [[-1.0]], [[1.0]], [[1.0]], 0.1)
    with pytest.raises(ValidationError, match="no pairs"):
        dpo_loss_and_grads([], [], [], [], [], [], 0.1)
    with pytest.raises(ValidationError, match="dpo_beta"):
        dpo_loss_and_grads([[-1.0]], [[-1.0]], [[-1.0]], [[-1.0]], [[1.0]], [[1.0]], 0.0)


_MASK_LP = st.one_of(
    st.floats(min_value=-30.0, max_value=0.0),
    st.sampled_from([0.0, -0.0, -math.inf, math.nan, -1, -3]),
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    sizes=st.lists(st.tuples(st.integers(1, 40), st.integers(0, 40)), min_size=2, max_size=6),
    zero=st.sampled_from([0.0, 0, -0.0, 0.5]),
    one=st.sampled_from([1.0, 1, 2.0]),
)
def test_prompt_mask_shortcut_is_bit_identical(
    data: Any, sizes: list[tuple[int, int]], zero: float, one: float
) -> None:
    """Weights of k zeros then ones take C-level shortcuts on the pure backend; every result must be the
    general arithmetic's bits (NaN where a non-finite log-prob sits under a zero weight, signed zeros)."""
    from tinkerlite.backend import get_backend, set_backend
    from tinkerlite.preference import dpo_loss as mod

    if len(sizes) % 2:
        sizes = sizes[:-1]
    lps, refs, ws = [], [], []
    for n, k in sizes:
        k = min(k, n)
        lps.append(data.draw(st.lists(_MASK_LP, min_size=n, max_size=n)))
        refs.append(data.draw(st.lists(_MASK_LP, min_size=n, max_size=n)))
        ws.append([zero] * k + [one] * (n - k))
    args = (lps[0::2], lps[1::2], refs[0::2], refs[1::2], ws[0::2], ws[1::2], 0.1)

    def bits(res: Any) -> Any:
        def f(x: float) -> str:
            return "nan" if math.isnan(x) else x.hex()

        return (
            f(res.loss),
            {k: f(v) for k, v in res.metrics.items()},
            [[f(x) for x in g] for g in res.chosen_grads + res.rejected_grads],
        )

    before = get_backend().name
    set_backend("pure")
    try:
        fast = bits(dpo_loss_and_grads(*args))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(mod, "_mask_start", lambda w: None)
            general = bits(dpo_loss_and_grads(*args))
    finally:
        set_backend(before)
    assert fast == general


def test_prompt_mask_shortcut_is_taken() -> None:
    from tinkerlite.preference.dpo_loss import _mask_start

    assert _mask_start([0.0, 0.0, 1.0, 1.0]) == 2
    assert _mask_start([1.0, 1.0]) == 0
    assert _mask_start([0.0, 1.0, 0.0]) is None  # not a suffix of ones
    assert _mask_start([0.0, 0.5]) is None
    assert _mask_start([-0.0, 1.0]) is None  # a negative zero keeps the general path's signs
    assert _mask_start([0.0, 0.0]) is None
