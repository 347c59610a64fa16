"""Wire primitives: varints, zigzag, tags, length-delimited fields, and what hostile bytes do to them."""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinkerlite.codec.protobuf import (
    WT_I32,
    WT_I64,
    WT_LEN,
    WT_SGROUP,
    WT_VARINT,
    Writer,
    decode_double,
    decode_float,
    encode_varint,
    expect_wire_type,
    iter_fields,
    iter_packed_varints,
    read_varint,
    to_int32,
    to_int64,
    utf8,
    zigzag_decode,
    zigzag_encode,
)
from tinkerlite.errors import ProtocolError

U64 = st.integers(0, 2**64 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)


def fields(buf: bytes) -> list[tuple[int, int, object]]:
    return [(fn, wt, bytes(v) if isinstance(v, memoryview) else v) for fn, wt, v in iter_fields(memoryview(buf))]


@given(U64)
def test_varint_round_trip(v: int) -> None:
    b = encode_varint(v)
    assert len(b) <= 10
    assert read_varint(b, 0, len(b)) == (v, len(b))


@given(I64)
def test_negative_ints_are_ten_byte_twos_complement(v: int) -> None:
    b = encode_varint(v)
    if v < 0:
        assert len(b) == 10
    raw, _ = read_varint(b, 0, len(b))
    assert to_int64(raw) == v
    if -(2**31) <= v < 2**31:
        assert to_int32(raw) == v


@given(I64)
def test_zigzag(v: int) -> None:
    z = zigzag_encode(v)
    assert 0 <= z < 2**64 and zigzag_decode(z) == v
    assert [zigzag_encode(x) for x in (0, -1, 1, -2, 2)] == [0, 1, 2, 3, 4]


def test_known_encodings() -> None:
    assert encode_varint(0) == b"\x00"
    assert encode_varint(300) == b"\xac\x02"
    assert encode_varint(2**64 - 1) == b"\xff" * 9 + b"\x01"
    w = Writer()
    w.varint(1, 150)
    w.string(2, "testing")
    w.double(3, 1.5)
    w.float(4, -2.0)
    w.packed_varints(5, [3, 270, 86942])
    w.packed_varints(6, [])
    w.sint(7, -1)
    assert w.getvalue() == (
        b"\x08\x96\x01" + b"\x12\x07testing" + b"\x19" + struct.pack("<d", 1.5) + b"\x25" + struct.pack("<f", -2.0)
        + b"\x2a\x06\x03\x8e\x02\x9e\xa7\x05" + b"\x38\x01"
    )  # fmt: skip
    got = fields(w.getvalue())
    assert got[0] == (1, WT_VARINT, 150)
    assert got[1] == (2, WT_LEN, b"testing")
    assert decode_double(got[2][2]) == 1.5 and got[2][1] == WT_I64  # type: ignore[arg-type]
    assert decode_float(got[3][2]) == -2.0 and got[3][1] == WT_I32  # type: ignore[arg-type]
    assert list(iter_packed_varints(memoryview(got[4][2]))) == [3, 270, 86942]  # type: ignore[arg-type]
    assert zigzag_decode(got[5][2]) == -1  # type: ignore[arg-type]


def test_varint_errors() -> None:
    with pytest.raises(ProtocolError, match="truncated"):
        read_varint(b"\x80\x80", 0, 2)
    with pytest.raises(ProtocolError, match="truncated"):
        read_varint(b"", 0, 0)
    with pytest.raises(ProtocolError, match="longer than 10"):
        read_varint(b"\x80" * 10 + b"\x01", 0, 11)
    with pytest.raises(ProtocolError, match="overflows 64 bits"):
        read_varint(b"\xff" * 9 + b"\x02", 0, 10)
    with pytest.raises(ValueError):
        encode_varint(2**64)
    with pytest.raises(ValueError):
        encode_varint(-(2**63) - 1)


@pytest.mark.parametrize(
    ("buf", "match"),
    [
        (b"\x0a\x05abc", "runs past the end"),  # length past the end
        (b"\x0a\xff\xff\xff\xff\x0f", "runs past the end"),  # huge declared length: no allocation
        (b"\x09\x00\x00", "truncated fixed64"),
        (b"\x0d\x00", "truncated fixed32"),
        (b"\x08", "truncated varint"),
        (b"\x08\x80", "truncated varint"),
        (b"\x00\x01", "invalid field number 0"),
        (b"\x0e", "invalid wire type 6"),
        (b"\x0f", "invalid wire type 7"),
        (b"\x0c", "unexpected end-group"),
        (b"\x0b\x08\x01", "truncated varint"),  # group never closed
        (b"\x0b\x14", "mismatched end-group"),
        (b"\xf8\xff\xff\xff\xff\x01\x00", "invalid field number"),  # field number > 2**29-1
        (b"\x80" * 11, "longer than 10"),
    ],
)
def test_hostile_framing(buf: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        fields(buf)


def test_groups_are_skipped_with_a_depth_cap() -> None:
    # field 1 group { field 2 varint 5; field 3 group {} } then field 4 varint 1
    buf = b"\x0b\x10\x05\x1b\x1c\x0c\x20\x01"
    assert fields(buf) == [(1, WT_SGROUP, None), (4, WT_VARINT, 1)]
    deep = b"\x0b" * 100_000
    start = time.perf_counter()
    with pytest.raises(ProtocolError, match="nested deeper"):
        fields(deep)
    assert time.perf_counter() - start < 1.0


def test_deep_length_delimited_nesting_is_not_recursed_into() -> None:
    # 10k nested length-delimited wrappers: the reader only descends where a schema says so.
    payload = b""
    for _ in range(2000):
        payload = b"\x0a" + encode_varint(len(payload)) + payload
    assert len(fields(payload)) == 1


def test_wire_type_check_and_utf8() -> None:
    with pytest.raises(ProtocolError, match="wrong wire type varint, expected length-delimited"):
        expect_wire_type("X.name", WT_VARINT, WT_LEN)
    expect_wire_type("X.name", WT_LEN, WT_LEN)
    assert utf8(memoryview("ü✓".encode()), "x") == "ü✓"
    with pytest.raises(ProtocolError, match="invalid UTF-8"):
        utf8(memoryview(b"\xff\xfe"), "x")


def test_memoryview_payloads_are_zero_copy() -> None:
    buf = bytearray(b"\x0a\x03abc")
    ((_, _, v),) = iter_fields(memoryview(buf))
    assert isinstance(v, memoryview) and v.obj is buf
