"""The pure and numpy backends must give the same numbers (exact for ints, float32-close for floats)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinkerlite.backend import get_backend, set_backend
from tinkerlite.backend.pure import PureBackend

np = pytest.importorskip("numpy")
from tinkerlite.backend.numpy_backend import NumpyBackend  # noqa: E402

P, N = PureBackend(), NumpyBackend()
floats = st.floats(-50, 50, allow_nan=False, width=32)
vecs = st.lists(floats, min_size=1, max_size=64)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def allclose(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))


@settings(max_examples=200)
@given(vecs)
def test_unary_ops_agree(v: list[float]) -> None:
    for op in ("exp", "log_sigmoid", "sigmoid"):
        assert allclose(P.tolist(getattr(P, op)(v)), N.tolist(getattr(N, op)(N.asarray(v)))), op
    assert allclose(P.clip(v, -1, 2), N.tolist(N.clip(v, -1, 2)))


@settings(max_examples=200)
@given(vecs, st.floats(0, 1))
def test_reductions_and_returns_agree(v: list[float], gamma: float) -> None:
    for op in ("sum", "mean", "std", "max", "min"):
        assert close(getattr(P, op)(v), getattr(N, op)(N.asarray(v))), op
    assert close(P.dot(v, v), N.dot(v, v))
    assert allclose(P.discounted_cumsum(v, gamma), N.tolist(N.discounted_cumsum(v, gamma)))


@settings(max_examples=100)
@given(vecs, vecs)
def test_binary_ops_agree(a: list[float], b: list[float]) -> None:
    b = (b * len(a))[: len(a)]
    for op in ("add", "sub", "mul"):
        assert allclose(getattr(P, op)(a, b), N.tolist(getattr(N, op)(a, b))), op


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_int64_bytes_agree_exactly(v: list[int]) -> None:
    assert P.to_bytes(v, "int64") == N.to_bytes(N.asarray(v, "int64"), "int64")
    assert P.from_bytes(P.to_bytes(v, "int64"), "int64") == N.tolist(N.from_bytes(N.to_bytes(v, "int64"), "int64"))


@given(st.lists(floats, max_size=50))
def test_float32_bytes_agree_exactly(v: list[float]) -> None:
    assert P.to_bytes(v, "float32") == N.to_bytes(N.asarray(v, "float32"), "float32")


def test_log_sigmoid_is_stable_at_extremes() -> None:
    for b in (P, N):
        out = b.tolist(b.log_sigmoid([-1000.0, 1000.0, 0.0]))
        assert out[0] == -1000.0 and out[1] == 0.0 and close(out[2], -math.log(2))


def test_discounted_cumsum_hand_case() -> None:
    assert P.discounted_cumsum([1.0, 2.0, 3.0], 0.5) == [1 + 0.5 * (2 + 0.5 * 3), 2 + 1.5, 3.0]


def test_reshape_and_flatten_agree() -> None:
    flat, shape = P.flatten([[1, 2, 3], [4, 5, 6]])
    assert shape == [2, 3]
    assert P.reshape(flat, shape) == N.tolist(N.reshape(flat, shape))
    assert P.concat([[1], [2, 3]]) == N.tolist(N.concat([[1], [2, 3]]))


def test_env_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    before = get_backend().name
    try:
        assert set_backend("pure").name == "pure"
        assert set_backend("numpy").name == "numpy"
        with pytest.raises(ValueError, match="TINKERLITE_BACKEND"):
            set_backend("fortran")
    finally:
        set_backend(before)
