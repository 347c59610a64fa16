"""Incremental decoding for the sampler: one new token per sequence per step, over a KV cache.

The training forward (:meth:`TinyTransformer.hidden`) keeps every adapter separate because it backpropagates
through them; decoding does not, so it reads the weights once prepared by :class:`DecodeWeights`: every
adapter merged into its matrix (``W + scale·A @ B``) and q, k, v side by side in one [d, 3d] matrix. A
decode step is then four products per layer instead of up to eighteen, with fewer, larger numpy calls. The
arithmetic is the training forward's up to float32 rounding (merged products round differently), so sampled
log-probs agree with training's to about 1e-6.

Rows come in slabs: ``[G, n, ...]`` arrays, one slab per request decoded in a group, and each product is
one call per slab; every other operation is row-wise. A slab's results are therefore the same bits whether
it is decoded alone or beside others (see :func:`tinkerlite.local.sampling.sample_group`).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from typing import Any, TypeAlias

from tinkerlite._optional import require

from .layers import gelu

np = require("numpy", "the local server's sampler", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = ["DecodeWeights", "decode_step", "decode_weights"]

_RMS_EPS = 1e-5


class DecodeWeights:
    """A model's weights as decoding reads them (built once per sampling call; the model is not changed)."""

    def __init__(self, model: Any) -> None:
        self.n_heads, self.head_dim = model.n_heads, model.head_dim
        self.embed, self.pos = model.base["embed"], model.base["pos"]
        self.layers: list[tuple[Array, Array, Array, Array]] = []
        for layer in range(model.config.n_layers):
            p = f"layers.{layer}"
            qkv = np.concatenate([self._merged(model, f"{p}.attn.{x}") for x in ("q", "k", "v")], axis=1)
            o, fc1, fc2 = (self._merged(model, f"{p}.{x}") for x in ("attn.o", "mlp.fc1", "mlp.fc2"))
            self.layers.append((qkv, o, fc1, fc2))
        self.unembed = model.unembed_weight()

    @staticmethod
    def _merged(model: Any, site: str) -> Array:
        w = model.base[site]
        if site not in model.sites:
            return w
        ab = model.params[f"{site}.lora_A"] @ model.params[f"{site}.lora_B"]
        ab *= model.scale
        ab += w
        return ab


_CACHED = 4
_cache: OrderedDict[int, tuple[weakref.ref[Any], DecodeWeights]] = OrderedDict()
_cache_lock = threading.Lock()


def decode_weights(model: Any) -> DecodeWeights:
    """``DecodeWeights(model)``, kept for the last few models marked ``frozen_for_sampling`` (the server's
    sampler snapshots, which nothing writes): merging a 151k-row unembedding costs ~20 ms per request."""
    if not getattr(model, "frozen_for_sampling", False):
        return DecodeWeights(model)
    key = id(model)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0]() is model:
            _cache.move_to_end(key)
            return hit[1]
    weights = DecodeWeights(model)
    with _cache_lock:
        _cache[key] = (weakref.ref(model), weights)
        _cache.move_to_end(key)
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return weights


def _rms(x: Array) -> Array:
    ms = np.einsum("...i,...i->...", x, x)[..., None]
    ms *= 1.0 / x.shape[-1]
    ms += _RMS_EPS
    return x / np.sqrt(ms)


def decode_step(w: DecodeWeights, tokens: Array, cache: Any) -> Array:
    """Final-norm hidden states [G, n, d] for one new token per row, ``tokens`` [G, n]; extends ``cache``
    (rows in slab order, [G·n, H, capacity, hd] per layer) by one position."""
    g, n = tokens.shape
    start = cache.length
    heads, hd = w.n_heads, w.head_dim
    d = heads * hd
    x = w.embed[tokens]
    x += w.pos[start]
    scale = 1.0 / math.sqrt(hd)
    for layer, (qkv_w, o_w, fc1_w, fc2_w) in enumerate(w.layers):
        qkv = (_rms(x) @ qkv_w).reshape(g * n, 3, heads, hd)
        k_cache, v_cache = cache.k[layer], cache.v[layer]
        k_cache[:, :, start] = qkv[:, 1]
        v_cache[:, :, start] = qkv[:, 2]
        q = qkv[:, 0, :, None, :]  # [B, H, 1, hd]
        scores = q @ k_cache[:, :, : start + 1].swapaxes(-1, -2)  # [B, H, 1, S]
        scores *= scale
        scores -= np.max(scores, axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= np.sum(scores, axis=-1, keepdims=True)
        att = (scores @ v_cache[:, :, : start + 1]).reshape(g, n, d)  # [B, H, 1, hd] -> heads side by side
        x += att @ o_w
        a, _ = gelu(_rms(x) @ fc1_w)
        x += a @ fc2_w
    cache.length = start + 1
    return _rms(x)
