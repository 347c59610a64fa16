"""INT4 group quantization in compressed-tensors' ``pack-quantized`` format (Kimi K2.x experts), in numpy.

Eight signed 4-bit values (range [-8, 7]) per ``int32``, value ``i`` in bits ``[4i, 4i + 4)``; one scale per
``group_size`` consecutive elements of a row (stored as bfloat16); ``float = int4 * scale``; a
``weight_shape`` tensor keeps the original ``[out_dim, in_dim]``. Symmetric quantization: ``scale =
max|group| / 7``, values rounded half to even and clamped to [-8, 7] (as the cookbook's torch code does).
Arrays are numpy; bfloat16 values travel as float32 holding bfloat16-representable numbers.
"""

from __future__ import annotations

from typing import Any

from ._merge import numpy
from ._safetensors import bf16_to_float32, float32_to_bf16

__all__ = ["dequantize_int4_group", "pack_int4", "quantize_int4_group", "unpack_int4"]


def unpack_int4(packed: Any) -> Any:
    """``int32 [rows, cols/8]`` -> ``int8 [rows, cols]`` in [-8, 7]."""
    np = numpy()
    p = np.asarray(packed, dtype=np.int32)
    shifts = np.arange(0, 32, 4, dtype=np.int32)
    nibbles = (p[..., None] >> shifts) & 0xF
    nibbles = np.where(nibbles >= 8, nibbles - 16, nibbles)
    return nibbles.reshape(p.shape[0], p.shape[1] * 8).astype(np.int8)


def pack_int4(values: Any) -> Any:
    """``int [rows, cols]`` in [-8, 7] (cols divisible by 8) -> ``int32 [rows, cols/8]``."""
    np = numpy()
    v = np.asarray(values)
    rows, cols = v.shape
    if cols % 8 != 0:
        raise ValueError(f"cols ({cols}) must be divisible by 8")
    unsigned = (v.astype(np.int64) & 0xF).reshape(rows, -1, 8)
    shifts = np.arange(0, 32, 4, dtype=np.int64)
    packed = (unsigned << shifts).sum(axis=-1)
    return packed.astype(np.uint32).view(np.int32)


def dequantize_int4_group(packed: Any, scale: Any, original_shape: tuple[int, int], group_size: int = 32) -> Any:
    """Packed weights and per-group scales -> float32 ``original_shape`` (values rounded to bfloat16)."""
    np = numpy()
    out_dim, in_dim = original_shape
    unpacked = unpack_int4(packed)[:, :in_dim]
    grouped = unpacked.reshape(out_dim, -1, group_size).astype(np.float32)
    deq = (grouped * np.asarray(scale, dtype=np.float32)[..., None]).reshape(out_dim, in_dim)
    return bf16_to_float32(float32_to_bf16(deq))


def quantize_int4_group(tensor: Any, group_size: int = 32) -> tuple[Any, Any]:
    """float ``[out, in]`` -> (``int32 [out, in/8]`` packed, float32 bfloat16-exact scales ``[out, in/gs]``)."""
    np = numpy()
    t = np.asarray(tensor, dtype=np.float32)
    out_dim, in_dim = t.shape
    if in_dim % group_size != 0:
        raise ValueError(f"in_dim ({in_dim}) must be divisible by group_size ({group_size})")
    grouped = t.reshape(out_dim, -1, group_size)
    scale = np.maximum(np.abs(grouped).max(axis=-1) / np.float32(7.0), np.float32(1e-12))
    q = np.clip(np.round(grouped / scale[..., None]), -8, 7).astype(np.int8).reshape(out_dim, in_dim)
    return pack_int4(q), bf16_to_float32(float32_to_bf16(scale))
