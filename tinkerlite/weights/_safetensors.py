"""safetensors files written and read with the standard library; numpy is used when present, never torch.

The format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length ``N``, ``N``
bytes of JSON mapping each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (plus an
optional ``"__metadata__"`` of string pairs), then the raw little-endian, C-order tensor bytes. The header is
padded with spaces to a multiple of 8 like the reference writer, and tensors are laid out in name order.

:class:`RawTensor` holds one tensor as bytes, so files can be copied, inspected and rewritten without
numpy. :func:`load_file` and :func:`save_file` mirror ``safetensors.numpy`` (numpy arrays in and out);
``BF16`` has no numpy dtype, so it is widened to float32 on load (:func:`bf16_to_float32`) and narrowed
with round-to-nearest-even on save (:func:`float32_to_bf16`) when asked for.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinkerlite._optional import require, try_import

__all__ = [
    "DTYPE_SIZES",
    "RawTensor",
    "SafetensorsError",
    "bf16_to_float32",
    "float32_to_bf16",
    "load",
    "load_file",
    "load_raw",
    "read_header",
    "save",
    "save_file",
    "save_raw",
]

DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
# safetensors dtype -> numpy dtype string (little-endian); BF16 and FP8 have no numpy dtype.
_NUMPY_DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8", "F64": "<f8",
}  # fmt: skip
_FROM_NUMPY = {v.lstrip("<|"): k for k, v in _NUMPY_DTYPES.items()}
_STRUCT_CODES = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "U16": "H", "F16": "e", "I32": "i", "U32": "I",
                 "F32": "f", "I64": "q", "U64": "Q", "F64": "d"}  # fmt: skip
_MAX_HEADER = 100 * 1024 * 1024  # the reference reader's limit


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or a tensor that cannot be stored in it."""


@dataclass(frozen=True)
class RawTensor:
    """One tensor as its safetensors dtype, shape and raw little-endian bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_SIZES:
            raise SafetensorsError(f"unknown safetensors dtype {self.dtype!r} (known: {', '.join(DTYPE_SIZES)})")
        if any(not isinstance(d, int) or d < 0 for d in self.shape):
            raise SafetensorsError(f"shape must be non-negative integers, got {self.shape!r}")
        want = math.prod(self.shape) * DTYPE_SIZES[self.dtype]
        if len(self.data) != want:
            raise SafetensorsError(f"{self.dtype}{list(self.shape)} needs {want} bytes, got {len(self.data)}")

    @classmethod
    def from_values(cls, values: list[float] | list[int], shape: tuple[int, ...], dtype: str = "F32") -> RawTensor:
        """Pack a flat Python list (C order) with ``struct``; no numpy needed."""
        if dtype == "BF16":
            f32 = struct.pack(f"<{len(values)}f", *values)
            return cls(dtype, tuple(shape), _bf16_bytes_from_f32_bytes(f32))
        code = _STRUCT_CODES.get(dtype)
        if code is None:
            raise SafetensorsError(f"cannot pack Python values as {dtype}")
        return cls(dtype, tuple(shape), struct.pack(f"<{len(values)}{code}", *values))

    def tolist(self) -> list[Any]:
        """The values as a flat Python list (C order); BF16 is widened to float."""
        if self.dtype == "BF16":
            n = len(self.data) // 2
            halves = struct.unpack(f"<{n}H", self.data)
            return list(struct.unpack(f"<{n}f", struct.pack(f"<{n}I", *(h << 16 for h in halves))))
        code = _STRUCT_CODES.get(self.dtype)
        if code is None:
            raise SafetensorsError(f"cannot unpack {self.dtype} without a float8 implementation")
        return list(struct.unpack(f"<{math.prod(self.shape)}{code}", self.data))

    def to_numpy(self) -> Any:
        """A numpy array (a copy); BF16 becomes float32, FP8 raises."""
        np = require("numpy", "reading safetensors tensors as arrays", extra="fast")
        if self.dtype == "BF16":
            return bf16_to_float32(np.frombuffer(self.data, dtype="<u2").reshape(self.shape))
        dt = _NUMPY_DTYPES.get(self.dtype)
        if dt is None:
            raise SafetensorsError(f"{self.dtype} has no numpy dtype; read it as RawTensor bytes")
        return np.frombuffer(self.data, dtype=dt).reshape(self.shape).copy()

    @classmethod
    def from_numpy(cls, array: Any, dtype: str | None = None) -> RawTensor:
        """From a numpy array; ``dtype="BF16"`` narrows float32 with round-to-nearest-even."""
        np = require("numpy", "writing numpy arrays as safetensors", extra="fast")
        arr = np.asarray(array)
        if dtype == "BF16":
            bits = float32_to_bf16(arr.astype(np.float32))
            return cls("BF16", tuple(int(d) for d in arr.shape), bits.astype("<u2").tobytes())
        name = _FROM_NUMPY.get(arr.dtype.str.lstrip("<>|="))
        if dtype is not None and dtype != name:
            target = _NUMPY_DTYPES.get(dtype)
            if target is None:
                raise SafetensorsError(f"cannot convert {arr.dtype} to {dtype}")
            arr, name = arr.astype(target), dtype
        if name is None:
            raise SafetensorsError(f"numpy dtype {arr.dtype} has no safetensors equivalent")
        le = np.ascontiguousarray(arr, dtype=_NUMPY_DTYPES[name])
        return cls(name, tuple(int(d) for d in arr.shape), le.tobytes())


def _bf16_bytes_from_f32_bytes(f32: bytes) -> bytes:
    n = len(f32) // 4
    out = []
    for bits in struct.unpack(f"<{n}I", f32):
        if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:  # NaN stays a (quiet) NaN
            out.append((bits >> 16) | 0x40)
        else:
            out.append(((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF)
    return struct.pack(f"<{n}H", *out)


def bf16_to_float32(bits: Any) -> Any:
    """uint16 bfloat16 bit patterns -> float32 array (exact)."""
    np = require("numpy", "bfloat16 conversion", extra="fast")
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)


def float32_to_bf16(values: Any) -> Any:
    """float32 array -> uint16 bfloat16 bit patterns, rounding to nearest even (NaN stays NaN)."""
    np = require("numpy", "bfloat16 conversion", extra="fast")
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    return np.where(nan, ((bits >> 16) | 0x40).astype(np.uint16), rounded)


def _as_raw(name: str, value: Any) -> RawTensor:
    if isinstance(value, RawTensor):
        return value
    np = try_import("numpy")
    if np is None:
        raise SafetensorsError(f"tensor {name!r}: without numpy, pass a RawTensor (got {type(value).__name__})")
    return RawTensor.from_numpy(value)


def _encode(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None) -> tuple[bytes, list[bytes]]:
    header: dict[str, Any] = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError(f"metadata must map str to str, got {k!r}: {v!r}")
        header["__metadata__"] = dict(metadata)
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise SafetensorsError(f"bad tensor name {name!r}")
        raw = _as_raw(name, tensors[name])
        header[name] = {"dtype": raw.dtype, "shape": list(raw.shape), "data_offsets": [offset, offset + len(raw.data)]}
        offset += len(raw.data)
        blobs.append(raw.data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head, blobs


def save(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """``safetensors.numpy.save``: the file's bytes."""
    prefix, blobs = _encode(tensors, metadata)
    return b"".join([prefix, *blobs])


def save_raw(
    tensors: Mapping[str, Any], path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``tensors`` (RawTensor or numpy arrays) to ``path`` atomically."""
    from tinkerlite.utils.files import atomic_write_bytes

    atomic_write_bytes(path, save(tensors, metadata))


def save_file(
    tensors: Mapping[str, Any], filename: str | os.PathLike[str], metadata: Mapping[str, str] | None = None
) -> None:
    """``safetensors.numpy.save_file``: numpy arrays (or RawTensor) to a file."""
    save_raw(tensors, filename, metadata)


def _parse_header(buf: bytes, size: int, where: str) -> tuple[dict[str, Any], int]:
    if len(buf) < 8:
        raise SafetensorsError(f"{where}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > _MAX_HEADER or 8 + n > size:
        raise SafetensorsError(f"{where}: header length {n} does not fit the file ({size} bytes)")
    try:
        header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SafetensorsError(f"{where}: header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: header must be a JSON object")
    return header, 8 + n


def _entries(
    header: Mapping[str, Any], data_len: int, where: str
) -> Iterator[tuple[str, str, tuple[int, ...], int, int]]:
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{where}: tensor {name!r} has a malformed header entry") from None
        if dtype not in DTYPE_SIZES or not 0 <= begin <= end <= data_len:
            raise SafetensorsError(f"{where}: tensor {name!r}: bad dtype {dtype!r} or offsets {[begin, end]}")
        if end - begin != math.prod(shape) * DTYPE_SIZES[dtype]:
            raise SafetensorsError(f"{where}: tensor {name!r}: {end - begin} bytes for {dtype}{list(shape)}")
        yield name, dtype, shape, begin, end


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header alone (cheap for big files): tensor entries plus ``__metadata__``."""
    p = Path(path)
    with p.open("rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise SafetensorsError(f"{p}: too short for a safetensors header")
        (n,) = struct.unpack("<Q", first)
        header, _ = _parse_header(first + f.read(min(n, _MAX_HEADER + 1)), p.stat().st_size, str(p))
    return header


def _decode(buf: bytes, where: str) -> tuple[dict[str, RawTensor], dict[str, str]]:
    header, start = _parse_header(buf, len(buf), where)
    data = memoryview(buf)[start:]
    out = {
        name: RawTensor(dtype, shape, bytes(data[b:e]))
        for name, dtype, shape, b, e in _entries(header, len(data), where)
    }
    meta = header.get("__metadata__") or {}
    return out, {str(k): str(v) for k, v in meta.items()}


def load_raw(path: str | os.PathLike[str]) -> tuple[dict[str, RawTensor], dict[str, str]]:
    """Every tensor as :class:`RawTensor`, and the ``__metadata__`` (stdlib only)."""
    p = Path(path)
    return _decode(p.read_bytes(), str(p))


def load(data: bytes) -> dict[str, Any]:
    """``safetensors.numpy.load``: name -> numpy array from a file's bytes."""
    tensors, _ = _decode(bytes(data), "<bytes>")
    return {name: t.to_numpy() for name, t in tensors.items()}


def load_file(filename: str | os.PathLike[str]) -> dict[str, Any]:
    """``safetensors.numpy.load_file``: name -> numpy array (BF16 widened to float32)."""
    tensors, _ = load_raw(filename)
    return {name: t.to_numpy() for name, t in tensors.items()}
