"""Little-endian packing through ``array``: one C call per buffer, byte-swapped on big-endian hosts."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable

_TYPECODE = {"int64": "q", "int32": "i", "float32": "f", "float64": "d", "uint16": "H"}
_ITEMSIZE = {"int64": 8, "int32": 4, "float32": 4, "float64": 8, "uint16": 2}
BIG_ENDIAN = sys.byteorder == "big"


def typecode(dtype: str) -> str:
    try:
        return _TYPECODE[dtype]
    except KeyError:
        raise ValueError(f"unsupported dtype {dtype!r}") from None


def itemsize(dtype: str) -> int:
    return _ITEMSIZE[dtype]


def array_from_le(buf: bytes | bytearray | memoryview, dtype: str) -> array:  # type: ignore[type-arg]
    """Decode little-endian bytes; the length must be a multiple of the item size."""
    a = array(typecode(dtype))
    if len(buf) % a.itemsize:
        raise ValueError(f"{len(buf)} bytes is not a whole number of {dtype} values")
    a.frombytes(buf)
    if BIG_ENDIAN:
        a.byteswap()
    return a


def array_to_le(a: array) -> bytes:  # type: ignore[type-arg]
    if BIG_ENDIAN:
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def make_array(dtype: str, values: Iterable[float] | Iterable[int]) -> array:  # type: ignore[type-arg]
    return array(typecode(dtype), values)


def le_view(a: array) -> bytes | memoryview:  # type: ignore[type-arg]
    """The array's little-endian bytes without a copy where the host is little-endian (a byte view that
    keeps ``a`` alive; ``b"".join`` and ``Writer.bytes_field`` take it as they take bytes)."""
    if BIG_ENDIAN:
        return array_to_le(a)
    return memoryview(a).cast("B")
