"""The pure backend's ``dot`` sums plainly (no ``math.fsum``); it must stay inside the numpy agreement bound."""

from __future__ import annotations

import math
import random

import pytest

from tinkerlite.backend import get_backend, set_backend
from tinkerlite.backend.pure import PureBackend
from tinkerlite.preference.dpo_loss import dpo_loss_and_grads

np = pytest.importorskip("numpy")

REL = 1e-6  # the documented pure/numpy agreement (tests/backend/test_backend_agreement.py)


@pytest.mark.parametrize("n", [1, 17, 1024, 65_536])
def test_plain_dot_is_within_the_agreement_bound_of_exact_and_numpy(n: int) -> None:
    rnd = random.Random(n)
    a = [rnd.uniform(-12.0, 0.0) for _ in range(n)]  # log-probs
    w = [rnd.choice([0.0, 1.0, 0.5]) for _ in range(n)]  # weights
    got = PureBackend().dot(a, w)
    exact = math.fsum(x * y for x, y in zip(a, w, strict=True))
    assert isinstance(got, float)
    assert math.isclose(got, exact, rel_tol=1e-12, abs_tol=1e-12)  # far inside the bound, in fact
    assert math.isclose(got, float(np.dot(np.asarray(a), np.asarray(w))), rel_tol=REL, abs_tol=REL)


def test_plain_dot_accepts_ints_and_float32_arrays() -> None:
    from array import array

    assert PureBackend().dot([1, 2, 3], [4, 5, 6]) == 32.0
    assert PureBackend().dot(list(array("f", [0.5, 0.25])), [2, 4]) == 2.0
    with pytest.raises(ValueError, match="length mismatch"):
        PureBackend().dot([1.0], [1.0, 2.0])


def test_dpo_loss_pure_agrees_with_numpy() -> None:
    rnd = random.Random(0)
    pairs, tokens = 8, 1024

    def lists() -> list[list[float]]:
        return [[rnd.uniform(-6.0, 0.0) for _ in range(tokens)] for _ in range(pairs)]

    args = (lists(), lists(), lists(), lists(), [[1.0] * tokens] * pairs, [[1.0] * tokens] * pairs, 0.1)
    before = get_backend().name
    try:
        set_backend("pure")
        p = dpo_loss_and_grads(*args)
        set_backend("numpy")
        q = dpo_loss_and_grads(*args)
    finally:
        set_backend(before)
    assert math.isclose(p.loss, q.loss, rel_tol=REL)
    for key in p.metrics:
        assert math.isclose(p.metrics[key], q.metrics[key], rel_tol=REL, abs_tol=REL), key
    for gp, gq in zip(p.chosen_grads, q.chosen_grads, strict=True):
        assert max(abs(x - y) for x, y in zip(gp, gq, strict=True)) <= REL


def test_dpo_loss_names_the_field_of_a_non_numeric_list() -> None:
    from tinkerlite.errors import ValidationError

    before = get_backend().name
    try:
        set_backend("pure")
        with pytest.raises(ValidationError, match="must hold numbers") as info:
            dpo_loss_and_grads([[0.1, "x"]], [[0.1, 0.2]], [[0.0, 0.0]], [[0.0, 0.0]], [[1.0, 1.0]], [[1.0, 1.0]], 0.1)
        assert "chosen[0]" in str(info.value)
    finally:
        set_backend(before)
