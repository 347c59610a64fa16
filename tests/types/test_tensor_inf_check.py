"""C-level input checks: TensorData's struct packing (int64 range, float32 overflow) and the token-id checks."""

from __future__ import annotations

import math
from array import array

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.types import TensorData


def test_float32_packing_accepts_what_array_f_would_and_names_overflow() -> None:
    edge = [0.0, -0.0, 1.5, -3.25, 3.4e38, -3.4028234663852886e38, math.nan, math.inf, -math.inf, True, 7, 2**100]
    got = TensorData(edge, "float32", [len(edge)]).tolist()
    want = array("f", edge).tolist()  # the float32 rounding numpy and array('f') apply
    assert [repr(v) for v in got] == [repr(v) for v in want]
    for bad, index in (([1.0, 3.5e38], 1), ([-1e300, 0.0], 0), ([0.0, 2**200], 1)):
        with pytest.raises(ValidationError, match=f"at index {index} overflows float32"):
            TensorData(bad, "float32", [2])


def test_int64_packing_checks_range_and_type_in_c() -> None:
    ok = [0, -1, 2**63 - 1, -(2**63), True, 3.0]
    assert TensorData(ok, "int64", [6]).tolist() == [0, -1, 2**63 - 1, -(2**63), 1, 3]
    for bad, msg in (
        ([1, 2**63], "index 1 is out of int64 range"),
        ([-(2**63) - 1], "index 0 is out of int64 range"),
        ([1, 1e39], "index 1 is out of int64 range"),
        ([0.5], "non-integer 0.5 at index 0"),
        ([1, "2"], "non-numeric str at index 1"),
        ([1, math.nan], "nan at index 1"),
    ):
        with pytest.raises(ValidationError, match=msg):
            TensorData(bad, "int64", [len(bad)])


def test_overflow_is_still_named_and_real_infinities_pass() -> None:
    with pytest.raises(ValidationError, match="overflows float32"):
        TensorData([0.5, 1e39], "float32", [2])
    assert TensorData([1.0, math.inf], "float32", [2]).tolist() == [1.0, math.inf]


def test_token_sign_check_in_c() -> None:
    from tinkerlite.types.model_input import _any_negative, check_token_ids

    assert not _any_negative(array("i", [0, 1, 255, 256, 2**31 - 1]))
    assert not _any_negative(array("i"))
    for bad in ([-1], [3, -(2**31)], [7] * 100 + [-128]):
        assert _any_negative(array("i", bad))
        with pytest.raises(ValidationError, match="is negative"):
            check_token_ids(bad, "tokens")
        with pytest.raises(ValidationError, match="is negative"):
            check_token_ids(array("i", bad), "tokens")
    for bad, msg in (
        ([1, 2**31], "token 1 = 2147483648 is outside"),
        ([-(2**31) - 1], "outside"),
        ([1, 2.0], "not an int"),
    ):
        with pytest.raises(ValidationError, match=msg):
            check_token_ids(bad, "tokens")
    toks, packed = check_token_ids((0, 5, 2**31 - 1), "tokens")
    assert toks == [0, 5, 2**31 - 1] and packed.typecode in "iI" and packed.tolist() == toks
    assert packed.tobytes() == array("i", toks).tobytes()  # the int32 wire bytes


def test_to_numpy_is_one_owned_copy() -> None:
    np = pytest.importorskip("numpy")
    t = TensorData([1.5, 2.5, 3.5, 4.5], "float32", [2, 2])
    a = t.to_numpy()
    assert a.dtype == np.float32 and a.shape == (2, 2) and a.flags.owndata and a.flags.writeable
    a[0, 0] = 9.0  # the tensor is immutable: its storage is not shared
    assert t.tolist() == [[1.5, 2.5], [3.5, 4.5]]
    i = TensorData([1, -2, 3], "int64", [3]).to_numpy()
    assert i.dtype == np.int64 and i.tolist() == [1, -2, 3]
