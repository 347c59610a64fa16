"""The unembedding head of :class:`~tinkerlite.local.model.TinyTransformer`: logits, log-softmax and their
backward, chunk by chunk, with as few passes over the ``[rows, V]`` logits as the arithmetic allows.

For a large vocabulary (a Qwen3-sized stand-in has V = 151,936 and d = 64) three products of T·d·V
multiply-adds are most of a training step; what this module adds around them is kept to four passes over
one ``[rows, V]`` buffer (the product writes it, a row max reads it, ``exp`` rewrites it in place, a row sum
reads it):

* ``logits - max`` only where it matters: when every row maximum lies in ``[-_SAFE, _SAFE]``, ``exp`` of the
  raw logits can neither overflow nor lose the row's largest terms, so the shift (a read-write pass) is
  skipped; otherwise the rows are shifted in place. Log-probs are ``logit[target] - log Σ exp`` either way.
* The softmax gradient is never materialised. ``d logits = sparse(g) + c·exp`` with ``c = -Σg / Z`` per row,
  so ``d logits @ W = c·(exp @ W) + Σ g·W[target]``: the dense product reads ``exp`` as it is and the row
  scale and the targets' terms are applied to the small ``[rows, d]`` result.
* The unembedding adapter's gradients come straight from ``exp``: one product ``exp @ [W_eff | Bᵀ]`` gives
  both ``d hidden`` and ``d logits @ Bᵀ`` (hence ``dA``), and ``dB = (s·c·hA)ᵀ @ exp`` plus the targets'
  columns. No ``[d, V]`` gradient of the merged matrix is formed or multiplied back through the adapter.

A vocabulary of at least :data:`~.parallel.SPLIT_MIN_COLUMNS` ids is worked in two fixed column spans, run on
two cores where there are two (:mod:`.parallel`): the products, the row max, ``exp`` and the row sums per span,
the spans' partial sums added in span order. Results depend on the shape only, not on the core count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, TypeAlias

from tinkerlite._optional import require

from .parallel import run_spans, spans

np = require("numpy", "the local server's model", extra="local")

Array: TypeAlias = Any  # numpy.ndarray; numpy is an optional extra, so arrays stay untyped here

__all__ = ["LOGIT_CHUNK", "UnembedHead", "merged_unembed"]

LOGIT_CHUNK = 1 << 25
"""At most this many logits (128 MiB of float32) are materialised at once, in one buffer."""

_SAFE = 60.0  # |row max| ≤ 60: exp neither overflows (Σ ≤ V·e⁶⁰) nor underflows the largest term (e⁻⁶⁰)


def merged_unembed(model: Any, extra: Array | None = None) -> Array:
    """``E + scale·(A @ B)ᵀ`` as [V, d] (E itself without an adapter), optionally followed by the columns
    ``extra`` [V, r] in the same row-major array (one product then reads both)."""
    w = model.base["embed"]
    v, d = w.shape
    if "unembed" not in model.sites and extra is None:
        return w
    out = np.empty((v, d + (0 if extra is None else extra.shape[1])), dtype=w.dtype)
    merged = out[:, :d]
    if "unembed" in model.sites:
        a, b = model.params["unembed.lora_A"], model.params["unembed.lora_B"]
        np.matmul(b.T, (model.scale * a).T, out=merged)  # the scale on the small factor: one pass fewer
        merged += w
    else:
        merged[...] = w
    if extra is not None:
        out[:, d:] = extra
    return out


class UnembedHead:
    """One request's unembedding: the merged weight, a logits buffer, and the adapter's gradient sums.

    ``train`` accumulates the unembedding adapter's gradients into ``model.grads``; ``need_dh`` makes
    :meth:`backward` return the gradient with respect to the hidden rows (for the body's backward).
    """

    def __init__(self, model: Any, max_rows: int, *, train: bool = False, need_dh: bool = False) -> None:
        self.model = model
        self.train = train and "unembed" in model.sites
        self.need_dh = need_dh
        self.d = model.config.d_model
        self.vocab = model.config.vocab_size
        if self.train:
            self.b = model.params["unembed.lora_B"]
            self.a = model.params["unembed.lora_A"]
            self.wcat = merged_unembed(model, extra=self.b.T)
            self.db = np.empty_like(self.b)  # one chunk's dense part of dB, added into the gradient
        else:
            self.wcat = merged_unembed(model)
        self.w = self.wcat[:, : self.d]  # the merged [V, d] (a strided view when B^T follows it)
        # Backward reads only the columns it needs: all of them, or just B^T when the body is not trained.
        self.wback = self.wcat if need_dh else self.wcat[:, self.d :]
        self.rows_per_chunk = max(1, LOGIT_CHUNK // self.vocab)
        self.buf = np.empty((min(max_rows, self.rows_per_chunk), self.vocab), dtype=model.dtype)

    def slices(self, n: int) -> Iterator[slice]:
        """``n`` rows in equal chunks (a short tail chunk would run the products at a poor rate)."""
        chunks = max(1, math.ceil(n / self.rows_per_chunk))
        size = math.ceil(n / chunks)
        for lo in range(0, n, size):
            yield slice(lo, min(lo + size, n))

    def logits(self, h: Array) -> Array:
        """Logits of the rows ``h`` [n, d] in the buffer, shifted by their row max only where needed."""
        s = self.buf[: h.shape[0]]
        parts = spans(self.vocab)

        def product(sl: slice) -> Array:
            np.matmul(h, self.w[sl].T, out=s[:, sl])
            return np.max(s[:, sl], axis=1, keepdims=True)

        maxes = run_spans(product, parts)
        m = maxes[0] if len(maxes) == 1 else np.maximum(*maxes)
        if m.size and not (-_SAFE <= float(m.min()) and float(m.max()) <= _SAFE):
            run_spans(lambda sl: np.subtract(s[:, sl], m, out=s[:, sl]), parts)
        return s

    @staticmethod
    def normalise(s: Array, targets: Array) -> tuple[Array, Array, Array]:
        """From :meth:`logits`' ``s``: ``(log-probs of targets [n, K], exp(s) (in place), Σ exp [n, 1])``."""
        picked = np.take_along_axis(s, targets, axis=1)

        def exp_sum(sl: slice) -> Array:
            part = s[:, sl]
            np.exp(part, out=part)
            return np.sum(part, axis=1, keepdims=True)

        sums = run_spans(exp_sum, spans(s.shape[1]))
        z = sums[0] if len(sums) == 1 else sums[0] + sums[1]
        return picked - np.log(z), s, z

    def forward(self, h: Array, targets: Array) -> tuple[Array, Array, Array]:
        """Target log-probs of the rows ``h``, plus ``exp`` and its row sums for :meth:`backward`."""
        return self.normalise(self.logits(h), targets)

    def backward(self, h: Array, targets: Array, e: Array, z: Array, g: Array) -> Array | None:
        """Backpropagate ``g = dloss/dlp`` [n, K] through the log-softmax and the unembedding.

        Adds the adapter's gradients (with ``train``) and returns ``d hidden`` [n, d] (with ``need_dh``).
        """
        if not (self.train or self.need_dh):
            return None
        g = np.asarray(g, dtype=e.dtype)
        c = -np.sum(g, axis=1, keepdims=True) / z  # d logits = sparse(g) + c·exp
        gathered = self.wback[targets]  # [n, K, cols]: the targets' rows of the columns read below
        parts = spans(self.vocab)
        dense = run_spans(lambda sl: e[:, sl] @ self.wback[sl], parts)
        out = c * (dense[0] if len(dense) == 1 else dense[0] + dense[1]) + np.einsum("nk,nkc->nc", g, gathered)
        d_h = out[:, : self.d] if self.need_dh else None
        if self.train:
            model, scale = self.model, self.model.scale
            q = out[:, -self.b.shape[0] :]  # d logits @ B^T  [n, r]
            model.grads["unembed.lora_A"] += scale * (h.T @ q)
            ha = h @ self.a  # [n, r]
            left = (scale * c * ha).T
            run_spans(lambda sl: np.matmul(left, e[:, sl], out=self.db[:, sl]), parts)
            grad_b = model.grads["unembed.lora_B"]
            grad_b += self.db
            cols = (scale * g[:, :, None] * ha[:, None, :]).reshape(-1, ha.shape[1])
            np.add.at(grad_b.T, targets.reshape(-1), cols)
        return d_h
