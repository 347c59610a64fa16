"""The protobuf ``Tensor`` message and the raw little-endian array helpers every message codec shares.

Arrays cross the wire as raw little-endian bytes inside ``bytes`` fields, so packing and unpacking is
one ``array`` call per buffer (byte-swapped on big-endian hosts), never a Python loop over values.

``Tensor { oneof encoding { 1 dense: bytes; 2 sparse_csr: SparseCsr }; 3 dtype: DType; 4 shape:
repeated int64 }``, ``SparseCsr { 1 values; 2 crow_indices (int64); 3 col_indices (int64) }``.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..backend._bytes import array_from_le, array_to_le, le_view
from ..errors import ProtocolError, ValidationError
from ..types import TensorData, TensorDtype
from .protobuf import WT_LEN, WT_VARINT, Writer, encode_varint, expect_wire_type, extend_repeated_int64, iter_fields

__all__ = [
    "DTYPE_BFLOAT16",
    "DTYPE_FLOAT32",
    "DTYPE_INT32",
    "DTYPE_INT64",
    "WIRE_DTYPES",
    "build",
    "decode_tensor",
    "encode_tensor",
    "float32_bytes",
    "int32_bytes",
    "tensor_dtype_code",
    "widen_to_public",
]

DTYPE_FLOAT32 = 1
DTYPE_INT64 = 2
DTYPE_INT32 = 3
DTYPE_BFLOAT16 = 4

# wire dtype -> (item size in bytes, public TensorData dtype it widens to)
WIRE_DTYPES: dict[int, tuple[int, TensorDtype]] = {
    DTYPE_FLOAT32: (4, "float32"),
    DTYPE_INT64: (8, "int64"),
    DTYPE_INT32: (4, "int64"),
    DTYPE_BFLOAT16: (2, "float32"),
}
_DTYPE_CODE: dict[str, int] = {"float32": DTYPE_FLOAT32, "int64": DTYPE_INT64}

T = TypeVar("T")


def build(what: str, make: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Construct a types object from decoded wire data; its validation errors become ProtocolErrors."""
    try:
        return make(*args, **kwargs)
    except (ValidationError, ValueError, TypeError, OverflowError) as exc:
        raise ProtocolError(f"{what}: {exc}") from exc


def tensor_dtype_code(dtype: str, field: str) -> int:
    code = _DTYPE_CODE.get(dtype)
    if code is None:
        raise ValidationError(f"dtype {dtype!r} cannot be written; only float32 and int64", field=field)
    return code


def int32_bytes(values: Sequence[int], field: str) -> bytes:
    """Little-endian int32 bytes of a token list in one C call (``struct`` packs a list ~4x faster than
    ``array`` builds one, and its explicit ``<`` needs no byte swap on big-endian hosts)."""
    if isinstance(values, array) and values.typecode == "i":
        return array_to_le(values)
    try:
        return struct.pack(f"<{len(values)}i", *values)
    except struct.error as exc:
        raise ValidationError(f"not int32 values: {exc}", field=field) from None


def float32_bytes(values: Sequence[float], field: str) -> bytes:
    """Little-endian float32 bytes of a list of floats (one C call)."""
    try:
        return struct.pack(f"<{len(values)}f", *values)
    except (struct.error, OverflowError) as exc:
        raise ValidationError(f"not float32 values: {exc}", field=field) from None


def widen_to_public(wire_dtype: int, buf: memoryview, what: str) -> array:  # type: ignore[type-arg]
    """Decode raw wire values into the public storage array: INT32 -> 'q', BF16 -> 'f' (bits << 16)."""
    info = WIRE_DTYPES.get(wire_dtype)
    if info is None:
        raise ProtocolError(f"{what}: unsupported dtype enum value {wire_dtype}")
    size, public = info
    if len(buf) % size:
        raise ProtocolError(f"{what}: {len(buf)} bytes is not a whole number of {size}-byte values")
    if wire_dtype == DTYPE_INT32:
        return array("q", array_from_le(buf, "int32"))
    if wire_dtype == DTYPE_BFLOAT16:
        # A bfloat16 is the top half of a float32: interleave each LE pair after two zero bytes.
        wide = bytearray(2 * len(buf))
        wide[2::4] = buf[0::2]
        wide[3::4] = buf[1::2]
        return array_from_le(wide, "float32")
    return array_from_le(buf, public)


def encode_tensor(td: TensorData, field: str) -> Writer:
    """Bytes as the official writer makes them: shape only when the TensorData has one."""
    w = Writer()
    code = tensor_dtype_code(td.dtype, f"{field}.dtype")
    if td.sparse_crow_indices is None and td.shape is not None and len(td.shape) == 1:
        # The common case, a dense 1-D tensor, in three pieces; the values are not copied here.
        values = le_view(td.flat)
        dim = encode_varint(td.shape[0])
        head = b"\x0a" + encode_varint(len(values))  # 1: dense bytes
        tail = b"\x18" + encode_varint(code) + b"\x22" + encode_varint(len(dim)) + dim  # 3: dtype, 4: shape
        w.parts += (head, values, tail)
        w.size = len(head) + len(values) + len(tail)
        return w
    if td.sparse_crow_indices is not None:
        csr = Writer()
        values = td.to_bytes()
        if values:
            csr.bytes_field(1, values)
        if td.sparse_crow_indices:
            csr.bytes_field(2, array_to_le(array("q", td.sparse_crow_indices)))
        if td.sparse_col_indices:
            csr.bytes_field(3, array_to_le(array("q", td.sparse_col_indices)))
        w.message(2, csr)
    else:
        w.bytes_field(1, td.to_bytes())
    w.varint(3, code)
    if td.shape:
        w.packed_varints(4, td.shape)
    return w


def decode_tensor(view: memoryview, what: str) -> TensorData:
    """Decode a ``Tensor``; an absent (empty) shape means 1-D, as for a TensorData without one."""
    dense: memoryview | None = None
    csr: memoryview | None = None
    dtype = 0
    shape: list[int] = []
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type(f"{what}.dense", wt, WT_LEN)
            assert isinstance(val, memoryview)
            dense, csr = val, None
        elif fn == 2:
            expect_wire_type(f"{what}.sparse_csr", wt, WT_LEN)
            assert isinstance(val, memoryview)
            csr, dense = val, None
        elif fn == 3:
            expect_wire_type(f"{what}.dtype", wt, WT_VARINT)
            assert isinstance(val, int)
            dtype = val
        elif fn == 4:
            extend_repeated_int64(shape, wt, val, f"{what}.shape")
    if dtype not in WIRE_DTYPES:
        raise ProtocolError(f"{what}: unsupported dtype enum value {dtype}")
    public = WIRE_DTYPES[dtype][1]
    if csr is None:
        flat = widen_to_public(dtype, dense if dense is not None else memoryview(b""), f"{what}.dense")
        return build(what, TensorData, flat, public, shape or None)
    values = memoryview(b"")
    crow = col = memoryview(b"")
    for fn, wt, val in iter_fields(csr):
        if fn in (1, 2, 3):
            expect_wire_type(f"{what}.sparse_csr field {fn}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            if fn == 1:
                values = val
            elif fn == 2:
                crow = val
            else:
                col = val
    flat = widen_to_public(dtype, values, f"{what}.sparse_csr.values")
    crow_l = _int64_list(crow, f"{what}.sparse_csr.crow_indices")
    col_l = _int64_list(col, f"{what}.sparse_csr.col_indices")
    return build(what, TensorData, flat, public, shape, crow_l, col_l)


def _int64_list(view: memoryview, what: str) -> list[int]:
    if len(view) % 8:
        raise ProtocolError(f"{what}: {len(view)} bytes is not a whole number of int64 values")
    out: list[int] = array_from_le(view, "int64").tolist()
    return out
