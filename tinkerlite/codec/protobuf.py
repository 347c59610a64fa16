"""Protobuf wire primitives (proto3 subset), sans-IO and safe on hostile input.

Only what tinkerlite's messages need: varints (plain and zigzag), fixed 32/64-bit scalars,
length-delimited fields and packed repeated varints. The reader never trusts a declared length: every
length is checked against the bytes actually left before anything is sliced or allocated, varints are
limited to 10 bytes, and groups (deprecated wire types 3/4) are skipped iteratively with a depth cap,
so a crafted message can neither recurse nor allocate its way out. Every failure is a
:class:`~tinkerlite.errors.ProtocolError`.

The writer emits fields in the order it is called; message codecs call it in field-number order, which
is what the official (upb) serializer does, so bytes come out identical.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import TypeAlias

from ..errors import ProtocolError

__all__ = [
    "WT_I32",
    "WT_I64",
    "WT_LEN",
    "WT_SGROUP",
    "WT_VARINT",
    "Buffer",
    "FieldValue",
    "Writer",
    "decode_double",
    "decode_float",
    "encode_varint",
    "expect_wire_type",
    "iter_fields",
    "iter_packed_varints",
    "read_varint",
    "to_int32",
    "to_int64",
    "to_uint32",
    "utf8",
    "zigzag_decode",
    "zigzag_encode",
]

WT_VARINT = 0
WT_I64 = 1
WT_LEN = 2
WT_SGROUP = 3
WT_EGROUP = 4
WT_I32 = 5

_WIRE_TYPE_NAMES = {0: "varint", 1: "fixed64", 2: "length-delimited", 3: "group", 5: "fixed32"}
_MAX_FIELD_NUMBER = (1 << 29) - 1
_MAX_GROUP_DEPTH = 64
_U64 = (1 << 64) - 1

Buffer: TypeAlias = bytes | bytearray | memoryview
# varint / fixed values arrive as unsigned ints, length-delimited payloads as zero-copy memoryviews,
# groups (always unknown to us) as None after being skipped.
FieldValue: TypeAlias = int | memoryview | None

_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")
_SMALL_VARINTS = [bytes((i,)) for i in range(128)]


# ----------------------------------------------------------------------------------------------------
# integers


def zigzag_encode(value: int) -> int:
    """Map a signed 64-bit int to the unsigned form ``sint64`` uses (0,-1,1,-2 -> 0,1,2,3)."""
    return ((value << 1) ^ (value >> 63)) & _U64


def zigzag_decode(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def to_int64(value: int) -> int:
    """Reinterpret a decoded varint as a signed 64-bit int (``int64``/``int32`` are sign-extended)."""
    value &= _U64
    return value - (1 << 64) if value >= 1 << 63 else value


def to_int32(value: int) -> int:
    """proto ``int32``: the low 32 bits, signed (negative values travel as 10-byte varints)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def to_uint32(value: int) -> int:
    return value & 0xFFFFFFFF


def encode_varint(value: int) -> bytes:
    """Base-128 varint; negative values are written as their 64-bit two's complement (10 bytes)."""
    if 0 <= value < 128:
        return _SMALL_VARINTS[value]
    if value < 0:
        if value < -(1 << 63):
            raise ValueError(f"varint value {value} does not fit in 64 bits")
        value &= _U64
    elif value > _U64:
        raise ValueError(f"varint value {value} does not fit in 64 bits")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """Decode one varint at ``pos``; returns ``(value, new_pos)``. At most 10 bytes, at most 64 bits."""
    if pos >= end:
        raise ProtocolError(f"truncated varint at byte {pos}")
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    p = pos + 1
    while True:
        if p >= end:
            raise ProtocolError(f"truncated varint at byte {pos}")
        b = buf[p]
        p += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
        if shift >= 70:
            raise ProtocolError(f"varint longer than 10 bytes at byte {pos}")
    if result > _U64:
        raise ProtocolError(f"varint at byte {pos} overflows 64 bits")
    return result, p


def decode_double(bits: int) -> float:
    return float(_DOUBLE.unpack(bits.to_bytes(8, "little"))[0])


def decode_float(bits: int) -> float:
    return float(_FLOAT.unpack(bits.to_bytes(4, "little"))[0])


def utf8(view: memoryview, what: str) -> str:
    """Decode a proto3 ``string`` (which must be valid UTF-8, as upb enforces)."""
    try:
        return str(view, "utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"{what}: invalid UTF-8 in string field") from exc


# ----------------------------------------------------------------------------------------------------
# reading


def _skip_group(buf: memoryview, pos: int, end: int, field_number: int) -> int:
    """Skip a (deprecated) group iteratively; returns the position after its END_GROUP tag."""
    stack = [field_number]
    while stack:
        tag, pos = read_varint(buf, pos, end)
        fn, wt = tag >> 3, tag & 7
        if fn == 0 or fn > _MAX_FIELD_NUMBER:
            raise ProtocolError(f"invalid field number {fn} inside group")
        if wt == WT_VARINT:
            _, pos = read_varint(buf, pos, end)
        elif wt == WT_I64:
            pos += 8
        elif wt == WT_I32:
            pos += 4
        elif wt == WT_LEN:
            n, pos = read_varint(buf, pos, end)
            if n > end - pos:
                raise ProtocolError(f"length {n} at byte {pos} runs past the end of the message")
            pos += n
        elif wt == WT_SGROUP:
            if len(stack) >= _MAX_GROUP_DEPTH:
                raise ProtocolError(f"groups nested deeper than {_MAX_GROUP_DEPTH}")
            stack.append(fn)
        elif wt == WT_EGROUP:
            if stack.pop() != fn:
                raise ProtocolError(f"mismatched end-group tag for field {fn}")
        else:
            raise ProtocolError(f"invalid wire type {wt} for field {fn}")
        if pos > end:
            raise ProtocolError("truncated fixed-width field inside group")
    return pos


def iter_fields(buf: memoryview, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, FieldValue]]:
    """Yield ``(field_number, wire_type, value)`` for each field of the message in ``buf[start:end]``.

    Values: unsigned int for varint and fixed fields (use :func:`decode_double` etc. on fixed bits),
    a memoryview slice for length-delimited fields, None for a skipped group.
    """
    if end is None:
        end = len(buf)
    pos = start
    while pos < end:
        b = buf[pos]
        if b < 0x80:
            tag = b
            pos += 1
        else:
            tag, pos = read_varint(buf, pos, end)
        fn = tag >> 3
        wt = tag & 7
        if fn == 0 or fn > _MAX_FIELD_NUMBER:
            raise ProtocolError(f"invalid field number {fn} at byte {pos}")
        if wt == WT_LEN:
            if pos < end and buf[pos] < 0x80:
                n = buf[pos]
                pos += 1
            else:
                n, pos = read_varint(buf, pos, end)
            if n > end - pos:
                raise ProtocolError(f"field {fn}: length {n} at byte {pos} runs past the end of the message")
            yield fn, wt, buf[pos : pos + n]
            pos += n
        elif wt == WT_VARINT:
            if pos < end and buf[pos] < 0x80:
                value = buf[pos]
                pos += 1
            else:
                value, pos = read_varint(buf, pos, end)
            yield fn, wt, value
        elif wt == WT_I64:
            if end - pos < 8:
                raise ProtocolError(f"field {fn}: truncated fixed64 at byte {pos}")
            yield fn, wt, int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wt == WT_I32:
            if end - pos < 4:
                raise ProtocolError(f"field {fn}: truncated fixed32 at byte {pos}")
            yield fn, wt, int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        elif wt == WT_SGROUP:
            pos = _skip_group(buf, pos, end, fn)
            yield fn, wt, None
        elif wt == WT_EGROUP:
            raise ProtocolError(f"unexpected end-group tag for field {fn} at byte {pos}")
        else:
            raise ProtocolError(f"invalid wire type {wt} for field {fn} at byte {pos}")


def expect_wire_type(what: str, wire_type: int, expected: int) -> None:
    """Known fields with the wrong wire type are errors (unknown ones are skipped by the caller)."""
    if wire_type != expected:
        raise ProtocolError(
            f"{what}: wrong wire type {_WIRE_TYPE_NAMES.get(wire_type, wire_type)}, "
            f"expected {_WIRE_TYPE_NAMES[expected]}"
        )


def iter_packed_varints(view: memoryview) -> Iterator[int]:
    pos, end = 0, len(view)
    while pos < end:
        value, pos = read_varint(view, pos, end)
        yield value


# ----------------------------------------------------------------------------------------------------
# writing


class Writer:
    """Append-only protobuf writer; the caller decides which defaults to omit.

    It keeps a list of byte pieces and their total size instead of one growing buffer, so a nested
    message is spliced into its parent by reference and the payload bytes are copied exactly once, by
    the final ``join`` in :meth:`getvalue`.
    """

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[Buffer] = []
        self.size = 0

    def getvalue(self) -> bytes:
        return b"".join(self.parts)

    def __len__(self) -> int:
        return self.size

    def _head(self, key: int, length: int | None = None) -> None:
        head = encode_varint(key) if length is None else encode_varint(key) + encode_varint(length)
        self.parts.append(head)
        self.size += len(head)

    def raw(self, data: Buffer) -> None:
        """Append bytes that are already wire-encoded."""
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        self.parts.append(data)
        self.size += n

    def tag(self, field_number: int, wire_type: int) -> None:
        self._head((field_number << 3) | wire_type)

    def varint(self, field_number: int, value: int) -> None:
        """``int32``/``int64``/``uint*``/``bool``/enum; negatives take 10 bytes, as protobuf does."""
        piece = encode_varint(field_number << 3) + encode_varint(value)
        self.parts.append(piece)
        self.size += len(piece)

    def sint(self, field_number: int, value: int) -> None:
        self.varint(field_number, zigzag_encode(value))

    def double(self, field_number: int, value: float) -> None:
        piece = encode_varint((field_number << 3) | WT_I64) + _DOUBLE.pack(value)
        self.parts.append(piece)
        self.size += len(piece)

    def float(self, field_number: int, value: float) -> None:
        piece = encode_varint((field_number << 3) | WT_I32) + _FLOAT.pack(value)
        self.parts.append(piece)
        self.size += len(piece)

    def bytes_field(self, field_number: int, data: Buffer) -> None:
        """A length-delimited field: ``bytes`` or a pre-encoded ``string``. ``data`` is kept by reference."""
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        self._head((field_number << 3) | WT_LEN, n)
        self.parts.append(data)
        self.size += n

    def string(self, field_number: int, value: str) -> None:
        self.bytes_field(field_number, value.encode("utf-8"))

    def message(self, field_number: int, sub: Writer) -> None:
        """An embedded message, spliced in without copying its pieces."""
        self._head((field_number << 3) | WT_LEN, sub.size)
        self.parts.extend(sub.parts)
        self.size += sub.size

    def packed_varints(self, field_number: int, values: Iterable[int]) -> None:
        """Packed repeated varints; nothing is written for an empty sequence (proto3)."""
        body = b"".join(encode_varint(v) for v in values)
        if body:
            self.bytes_field(field_number, body)


def decode_string_double_entry(view: memoryview, what: str) -> tuple[str, float]:
    """One ``map<string, double>`` entry (``{1: key, 2: value}``); missing parts take proto3 defaults."""
    key, num = "", 0.0
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type(f"{what} key", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key = utf8(val, f"{what} key")
        elif fn == 2:
            expect_wire_type(f"{what}[{key!r}]", wt, WT_I64)
            assert isinstance(val, int)
            num = decode_double(val)
    return key, num


def extend_repeated_int64(out: list[int], wire_type: int, val: FieldValue, what: str) -> None:
    """A ``repeated int64`` element: packed (one length-delimited run) or a single varint."""
    if wire_type == WT_LEN:
        assert isinstance(val, memoryview)
        out.extend(to_int64(v) for v in iter_packed_varints(val))
    else:
        expect_wire_type(what, wire_type, WT_VARINT)
        assert isinstance(val, int)
        out.append(to_int64(val))
