"""MXFP4 (OCP microscaling FP4 E2M1, GPT-OSS experts) packing and (de)quantization, in numpy.

Blocks of 32 values share one E8M0 scale (``2 ** (uint8 - 127)``); each byte holds two FP4 E2M1 codes,
low nibble first. FP4 values: ``0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6``. Quantization picks the scale
``ceil(log2(max|block| / 6))`` and snaps each value to the nearest code (the lower code on ties, as
``argmin`` does), matching the cookbook's torch implementation.
"""

from __future__ import annotations

from typing import Any

from ._merge import numpy

__all__ = ["BLOCK_SIZE", "dequantize_mxfp4", "pack_mxfp4", "quantize_mxfp4", "unpack_mxfp4"]

BLOCK_SIZE = 32
_FP4_E2M1_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]
_FP4_MAX = 6.0


def unpack_mxfp4(blocks: Any) -> Any:
    """``uint8 [..., 16]`` -> float32 ``[..., 32]`` FP4 values (before the scale)."""
    np = numpy()
    b = np.asarray(blocks, dtype=np.uint8)
    lut = np.asarray(_FP4_E2M1_VALUES, dtype=np.float32)
    pairs = np.stack([lut[b & 0x0F], lut[(b >> 4) & 0x0F]], axis=-1)
    return pairs.reshape(*b.shape[:-1], b.shape[-1] * 2)


def pack_mxfp4(values: Any) -> Any:
    """float ``[..., 2n]`` already in FP4 range -> ``uint8 [..., n]`` (nearest code, low nibble first)."""
    np = numpy()
    v = np.asarray(values, dtype=np.float32)
    lut = np.asarray(_FP4_E2M1_VALUES, dtype=np.float32)
    idx = np.abs(v[..., None] - lut).argmin(axis=-1).astype(np.uint8)
    pairs = idx.reshape(*v.shape[:-1], v.shape[-1] // 2, 2)
    return (pairs[..., 0] | (pairs[..., 1] << 4)).astype(np.uint8)


def dequantize_mxfp4(blocks: Any, scales: Any, original_shape: tuple[int, ...]) -> Any:
    """``uint8`` blocks ``[..., n_blocks, 16]`` and E8M0 scales ``[..., n_blocks]`` -> float32 ``original_shape``."""
    np = numpy()
    unpacked = unpack_mxfp4(blocks)
    scale = np.exp2(np.asarray(scales, dtype=np.float32) - np.float32(127.0))
    return (unpacked * scale[..., None]).reshape(original_shape).astype(np.float32)


def quantize_mxfp4(tensor: Any, block_size: int = BLOCK_SIZE) -> tuple[Any, Any]:
    """float ``[..., in_dim]`` -> (``uint8`` blocks ``[..., n_blocks, 16]``, ``uint8`` scales ``[..., n_blocks]``)."""
    np = numpy()
    t = np.asarray(tensor, dtype=np.float32)
    in_dim = t.shape[-1]
    if in_dim % block_size != 0:
        raise ValueError(f"in_dim ({in_dim}) must be divisible by block_size ({block_size})")
    grouped = t.reshape(*t.shape[:-1], in_dim // block_size, block_size)
    block_max = np.maximum(np.abs(grouped).max(axis=-1), np.float32(1e-12))
    exp = np.clip(np.ceil(np.log2(block_max / np.float32(_FP4_MAX))), -127, 127)
    normalized = np.clip(grouped / np.exp2(exp)[..., None], -_FP4_MAX, _FP4_MAX)
    return pack_mxfp4(normalized), (exp + 127).astype(np.uint8)
