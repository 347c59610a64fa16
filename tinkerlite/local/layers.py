"""The transformer's building blocks and their hand-written derivatives (numpy), for :mod:`.model`."""

from __future__ import annotations

import math
from typing import Any, TypeAlias

from tinkerlite._optional import require

np = require("numpy", "the local server's model", extra="local")

Array: TypeAlias = Any  # numpy.ndarray; numpy is an optional extra, so arrays stay untyped here

__all__ = [
    "gelu",
    "gelu_backward",
    "merge_heads",
    "rms_norm",
    "rms_norm_backward",
    "rows",
    "softmax_rows",
    "split_heads",
]

_RMS_EPS = 1e-5
_GELU_C = math.sqrt(2.0 / math.pi)


def rms_norm(x: Array) -> tuple[Array, Array]:
    """``y = x / sqrt(mean(x²) + eps)``; returns ``y`` and the per-row factor ``r`` for the backward."""
    r = 1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + _RMS_EPS)
    return x * r, r


def rms_norm_backward(dy: Array, y: Array, r: Array) -> Array:
    # dx = r·(dy − y·mean(dy·y)), from dr/dx = −r³·x/d.
    return r * (dy - y * np.mean(dy * y, axis=-1, keepdims=True))


def gelu(u: Array) -> tuple[Array, Array]:
    """tanh-approximated GELU; returns the activation and ``tanh(·)`` for the backward."""
    t = np.tanh(_GELU_C * (u + 0.044715 * u * u * u))
    return 0.5 * u * (1.0 + t), t


def gelu_backward(da: Array, u: Array, t: Array) -> Array:
    dt_du = (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * u * u)
    return da * (0.5 * (1.0 + t) + 0.5 * u * dt_du)


def softmax_rows(scores: Array) -> Array:
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= np.sum(scores, axis=-1, keepdims=True)
    return scores


def split_heads(x: Array, n_heads: int) -> Array:
    b, t, d = x.shape
    return x.reshape(b, t, n_heads, d // n_heads).transpose(0, 2, 1, 3)  # [B, H, T, hd]


def merge_heads(x: Array) -> Array:
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


def rows(x: Array) -> Array:
    """Flatten all leading dimensions: LoRA gradients sum over every position of every sequence."""
    return x.reshape(-1, x.shape[-1])
