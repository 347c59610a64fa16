"""C-level input checks: TensorData's float32 overflow search and the token-id sign check."""

from __future__ import annotations

import math
from array import array

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.types import TensorData
from tinkerlite.types.tensor_data import _may_hold_inf


def test_byte_search_finds_both_infinities() -> None:
    assert _may_hold_inf(array("f", [1.0, math.inf, 2.0]))
    assert _may_hold_inf(array("f", [-math.inf]))
    assert not _may_hold_inf(array("f", [0.0, 1.5, -3.25, 3.4e38, math.nan]))


def test_a_misaligned_match_is_only_a_false_alarm() -> None:
    raw = array("f")
    raw.frombytes(bytes([1, 2, 0, 0, 0x80, 0x7F, 0x40, 0x40]))
    if raw.itemsize == 4 and array("f", [math.inf]).tobytes() == bytes([0, 0, 0x80, 0x7F]):  # little-endian
        assert _may_hold_inf(raw)  # the pattern straddles two elements
    values = raw.tolist()
    assert all(math.isfinite(v) for v in values)
    assert TensorData(values, "float32", [2]).tolist() == values  # accepted: the exact check finds nothing


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


def test_to_numpy_is_one_owned_copy() -> None:
    np = pytest.importorskip("numpy")
    t = TensorData([1.5, 2.5, 3.5, 4.5], "float32", [2, 2])
    a = t.to_numpy()
    assert a.dtype == np.float32 and a.shape == (2, 2) and a.flags.owndata and a.flags.writeable
    a[0, 0] = 9.0  # the tensor is immutable: its storage is not shared
    assert t.tolist() == [[1.5, 2.5], [3.5, 4.5]]
    i = TensorData([1, -2, 3], "int64", [3]).to_numpy()
    assert i.dtype == np.int64 and i.tolist() == [1, -2, 3]
