"""A small decoder-only transformer with LoRA adapters and a hand-written backward pass, in numpy.

This is the model the local Tinker-compatible server trains and samples from. It is meant to be read top
to bottom, nanoGPT style: configuration, then the model (its building blocks and their derivatives are in
:mod:`.layers`).

Architecture (all base weights frozen, drawn from ``Generator(PCG64(config.seed))``)::

    x = E[tokens] + P[positions]                         token embedding E [V, d], learned positions P [S, d]
    for each layer:
        x = x + Wo(attention(Wq h, Wk h, Wv h)),  h = rmsnorm(x)     causal multi-head attention
        x = x + W2(gelu(W1 h)),                   h = rmsnorm(x)     MLP, GELU (tanh approximation)
    logits = rmsnorm(x) @ E^T                            unembedding tied to the token embedding

* Positions are learned absolute embeddings (random and frozen like the rest), so sequences are at most
  ``max_seq_len`` long. RMSNorm has no gain (a frozen gain of ones would be the identity), eps 1e-5.
  No biases anywhere. Projections act on row vectors: ``y = x @ W`` with ``W`` of shape [d_in, d_out].
* The unembedding is tied to E, which keeps a 151,936-token vocabulary at one [V, d] matrix.
* LoRA: every adapted matrix ``W`` acts as ``W + (alpha / rank) · A @ B`` with ``A`` [d_in, r] drawn
  uniformly from ``±1/sqrt(d_in)`` (PEFT's Kaiming-uniform default) from ``Generator(PCG64(lora.seed))``
  and ``B`` [r, d_out] zero, so training starts from the base model. ``alpha`` defaults to ``rank``
  (scale 1). Sites: q, k, v, o (``train_attn``), fc1, fc2 (``train_mlp``) and the unembedding E^T
  (``train_unembed``). Only A and B are trained.
* Arithmetic is in ``dtype`` (float32 by default; the gradient checks use float64). Log-softmax is taken
  over chunks of rows so that a large vocabulary never holds more than ``unembed.LOGIT_CHUNK`` logits at once.

Training state (LoRA arrays, their gradient sums and the optimizer's state: AdamW moments, or Dimuon
momenta, chosen at construction) lives in the instance; the server is expected to call one method at a
time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

from . import losses
from .dimuon import DimuonParams
from .layers import gelu, gelu_backward, merge_heads, rms_norm, rms_norm_backward, rows, softmax_rows, split_heads
from .optim import OPTIMIZERS, AdamParams, make_optimizer, optimizer_for_state
from .unembed import UnembedHead, merged_unembed

np = require("numpy", "the local server's model", extra="local")

Array: TypeAlias = Any  # numpy.ndarray; numpy is an optional extra, so arrays stay untyped here

__all__ = ["DatumArrays", "KVCache", "LoraSpec", "ModelConfig", "TinyTransformer"]


# --------------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the base model; ``seed`` fixes its (frozen, random) weights."""

    vocab_size: int
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 512
    max_seq_len: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff", "max_seq_len"):
            if getattr(self, name) < 1:
                raise ValidationError("must be positive", field=f"model_config.{name}")
        if self.d_model % self.n_heads:
            raise ValidationError("d_model must be a multiple of n_heads", field="model_config.n_heads")
        if self.seed < 0:
            raise ValidationError("must be non-negative", field="model_config.seed")


@dataclass(frozen=True)
class LoraSpec:
    """Which matrices get adapters and how big they are. ``alpha=None`` means ``alpha = rank``."""

    rank: int = 32
    alpha: float | None = None
    seed: int = 0
    train_attn: bool = True
    train_mlp: bool = True
    train_unembed: bool = True

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValidationError("must be positive", field="lora_config.rank")
        if self.alpha is not None and not self.alpha > 0:
            raise ValidationError("must be positive", field="lora_config.alpha")
        if self.seed < 0:
            raise ValidationError("must be non-negative", field="lora_config.seed")
        if not (self.train_attn or self.train_mlp or self.train_unembed):
            raise ValidationError("at least one of train_attn, train_mlp, train_unembed must be true")

    @property
    def scale(self) -> float:
        return (self.rank if self.alpha is None else self.alpha) / self.rank


@dataclass(frozen=True)
class DatumArrays:
    """One training example: ``input_tokens[i]`` predicts ``loss_fn_inputs["target_tokens"][i]``."""

    input_tokens: Array  # int [T]
    loss_fn_inputs: Mapping[str, Array]  # target_tokens [T] or [T, K]; weights, logprobs, ... same shape
    sampled: Array | None = None  # bool [T]: provenance, True where a sampled span covers the target


@dataclass
class KVCache:
    """Keys and values of every layer for ``length`` positions, for incremental decoding."""

    k: list[Array]  # per layer [B, H, capacity, hd]
    v: list[Array]
    length: int = 0


@dataclass
class _LayerActs:
    """What one block's backward needs from its forward."""

    h: Array
    r: Array
    q: Array
    k: Array
    v: Array
    p: Array
    o: Array
    h2: Array
    r2: Array
    u: Array
    t: Array
    a: Array
    xa: dict[str, Array | None] = field(default_factory=dict)  # x @ A per LoRA site


# --------------------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------------------


class TinyTransformer:
    """Frozen random base transformer plus trainable LoRA adapters, gradient buffers and AdamW state."""

    def __init__(
        self,
        config: ModelConfig,
        lora: LoraSpec | None = None,
        dtype: Any = "float32",
        base: Mapping[str, Array] | None = None,
        optimizer: str = "adamw",
    ) -> None:
        """``base`` lets models of one base share its frozen weights (another model's ``.base``);
        ``optimizer`` is the family, ``adamw`` or ``dimuon``, fixed for the model's lifetime."""
        if optimizer not in OPTIMIZERS:
            raise ValidationError(
                f"unknown optimizer {optimizer!r}; accepted: {', '.join(OPTIMIZERS)}", field="optimizer_config.type"
            )
        self.config = config
        self.lora_spec = lora
        self.dtype = np.dtype(dtype)
        c = config
        d, hd = c.d_model, c.d_model // c.n_heads
        self.n_heads, self.head_dim = c.n_heads, hd
        self.base: dict[str, Array] = dict(base) if base is not None else self._init_base()
        for key, (shape, _) in self.base_layout().items():
            if key not in self.base or self.base[key].shape != shape or self.base[key].dtype != self.dtype:
                raise ValidationError(f"shared base weights do not fit this model ({key})", field="base")

        # LoRA adapters: name "<site>.lora_A" / "<site>.lora_B", sites in a fixed order.
        self.sites: dict[str, tuple[int, int]] = {}
        if lora is not None:
            for layer in range(c.n_layers):
                p = f"layers.{layer}"
                if lora.train_attn:
                    for name in ("q", "k", "v", "o"):
                        self.sites[f"{p}.attn.{name}"] = (d, d)
                if lora.train_mlp:
                    self.sites[f"{p}.mlp.fc1"] = (d, c.d_ff)
                    self.sites[f"{p}.mlp.fc2"] = (c.d_ff, d)
            if lora.train_unembed:
                self.sites["unembed"] = (d, c.vocab_size)
        self.scale = lora.scale if lora is not None else 0.0
        self.params: dict[str, Array] = {}
        lora_rng = np.random.Generator(np.random.PCG64(lora.seed if lora is not None else 0))
        for site, (d_in, d_out) in self.sites.items():
            rank = lora.rank if lora is not None else 0
            bound = 1.0 / math.sqrt(d_in)
            self.params[f"{site}.lora_A"] = lora_rng.uniform(-bound, bound, (d_in, rank)).astype(self.dtype)
            self.params[f"{site}.lora_B"] = np.zeros((rank, d_out), dtype=self.dtype)
        self.grads: dict[str, Array] = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.optimizer_kind = optimizer
        self.optimizer: Any = make_optimizer(optimizer, self.params, lora.rank if lora is not None else None)

    def base_layout(self) -> dict[str, tuple[tuple[int, int], float]]:
        """Name -> (shape, init std) of every frozen weight, in the order they are drawn from the seed.

        Output projections are scaled down by sqrt(2·n_layers), GPT-2 style.
        """
        c, d = self.config, self.config.d_model
        out_std = 1.0 / math.sqrt(2 * c.n_layers)
        layout = {"embed": ((c.vocab_size, d), 1.0 / math.sqrt(d)), "pos": ((c.max_seq_len, d), 0.5 / math.sqrt(d))}
        for layer in range(c.n_layers):
            p = f"layers.{layer}"
            for name in ("q", "k", "v"):
                layout[f"{p}.attn.{name}"] = ((d, d), 1.0 / math.sqrt(d))
            layout[f"{p}.attn.o"] = ((d, d), out_std / math.sqrt(d))
            layout[f"{p}.mlp.fc1"] = ((d, c.d_ff), 1.0 / math.sqrt(d))
            layout[f"{p}.mlp.fc2"] = ((c.d_ff, d), out_std / math.sqrt(c.d_ff))
        return layout

    def _init_base(self) -> dict[str, Array]:
        rng = np.random.Generator(np.random.PCG64(self.config.seed))
        return {
            name: (rng.standard_normal(shape) * std).astype(self.dtype)
            for name, (shape, std) in self.base_layout().items()
        }

    # ---- linear layers with adapters ----------------------------------------------------------------

    def _linear(self, x: Array, site: str) -> tuple[Array, Array | None]:
        """``x @ W (+ scale · (x @ A) @ B)``; also returns ``x @ A`` (None without an adapter)."""
        # One 2-D product: numpy runs [B, T, d] @ [d, e] as B separate ones (B small products per decode step).
        lead, x2 = x.shape[:-1], rows(x)
        y = x2 @ self.base[site]
        if site not in self.sites:
            return y.reshape(*lead, -1), None
        xa = x2 @ self.params[f"{site}.lora_A"]
        y += self.scale * (xa @ self.params[f"{site}.lora_B"])
        return y.reshape(*lead, -1), xa.reshape(*lead, -1)

    def _linear_backward(self, dy: Array, x: Array, xa: Array | None, site: str) -> Array:
        """Gradient with respect to ``x``; accumulates the adapter's gradients."""
        dx = dy @ self.base[site].T
        if xa is None:
            return dx
        a, b = self.params[f"{site}.lora_A"], self.params[f"{site}.lora_B"]
        dy_bt = dy @ b.T  # gradient with respect to x @ A, divided by scale
        dx += self.scale * (dy_bt @ a.T)
        self.grads[f"{site}.lora_A"] += self.scale * (rows(x).T @ rows(dy_bt))
        self.grads[f"{site}.lora_B"] += self.scale * (rows(xa).T @ rows(dy))
        return dx

    def unembed_weight(self) -> Array:
        """The effective unembedding, stored like E as [V, d]: ``logits = h @ unembed_weight().T``.

        With an adapter this is ``E + scale · (A @ B)^T``, merged once per call (see :mod:`.unembed`).
        """
        return merged_unembed(self)

    # ---- the transformer body -----------------------------------------------------------------------

    def _attention(self, q: Array, k: Array, v: Array, start: int) -> tuple[Array, Array]:
        """Causal attention of queries at positions ``start..`` over keys at ``0..``; returns (out, probs)."""
        scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(self.head_dim))  # [B, H, T, S]
        t, s = scores.shape[-2:]
        if t > 1:  # one new query (a decode step) sees every cached key: nothing to mask
            future = np.arange(s)[None, :] > (start + np.arange(t))[:, None]
            scores[..., future] = -np.inf
        p = softmax_rows(scores)
        return p @ v, p

    def hidden(
        self, tokens: Array, cache: KVCache | None = None, keep: list[_LayerActs] | None = None
    ) -> tuple[Array, Array]:
        """Final-norm hidden states [B, T, d] (and their RMS factors) for ``tokens`` [B, T].

        With ``cache`` the tokens continue the cached sequence (positions ``cache.length..``) and their
        keys and values are appended. With ``keep`` (a list to fill) the activations the backward pass
        needs are recorded. (The sampler decodes with :mod:`.decode` instead.)
        """
        start = cache.length if cache is not None else 0
        n = tokens.shape[1]
        if start + n > self.config.max_seq_len:
            raise ValidationError(f"sequence of {start + n} tokens exceeds max_seq_len {self.config.max_seq_len}")
        x = self.base["embed"][tokens] + self.base["pos"][start : start + n]
        for layer in range(self.config.n_layers):
            p = f"layers.{layer}"
            h, r = rms_norm(x)
            q, q_xa = self._linear(h, f"{p}.attn.q")
            k, k_xa = self._linear(h, f"{p}.attn.k")
            v, v_xa = self._linear(h, f"{p}.attn.v")
            q, k, v = (split_heads(z, self.n_heads) for z in (q, k, v))
            if cache is not None:
                cache.k[layer][:, :, start : start + n] = k
                cache.v[layer][:, :, start : start + n] = v
                k, v = cache.k[layer][:, :, : start + n], cache.v[layer][:, :, : start + n]
            o_heads, probs = self._attention(q, k, v, start)
            o = merge_heads(o_heads)
            attn_out, o_xa = self._linear(o, f"{p}.attn.o")
            x = x + attn_out
            h2, r2 = rms_norm(x)
            u, u_xa = self._linear(h2, f"{p}.mlp.fc1")
            a, t = gelu(u)
            mlp_out, a_xa = self._linear(a, f"{p}.mlp.fc2")
            x = x + mlp_out
            if keep is not None:
                xa = {"q": q_xa, "k": k_xa, "v": v_xa, "o": o_xa, "fc1": u_xa, "fc2": a_xa}
                keep.append(_LayerActs(h, r, q, k, v, probs, o, h2, r2, u, t, a, xa))
        if cache is not None:
            cache.length = start + n
        return rms_norm(x)

    def _hidden_backward(self, d_hf: Array, hf: Array, rf: Array, acts: list[_LayerActs]) -> None:
        """Backpropagate from the final-norm output to every adapter inside the blocks."""
        dx = rms_norm_backward(d_hf, hf, rf)
        for layer in reversed(range(self.config.n_layers)):
            p, s = f"layers.{layer}", acts[layer]
            # MLP branch: x += fc2(gelu(fc1(rmsnorm(x)))).
            da = self._linear_backward(dx, s.a, s.xa["fc2"], f"{p}.mlp.fc2")
            du = gelu_backward(da, s.u, s.t)
            dh2 = self._linear_backward(du, s.h2, s.xa["fc1"], f"{p}.mlp.fc1")
            dx = dx + rms_norm_backward(dh2, s.h2, s.r2)
            # Attention branch: x += o(attention(q, k, v)).
            do = split_heads(self._linear_backward(dx, s.o, s.xa["o"], f"{p}.attn.o"), self.n_heads)
            dp = do @ s.v.swapaxes(-1, -2)
            dv = s.p.swapaxes(-1, -2) @ do
            ds = s.p * (dp - np.sum(dp * s.p, axis=-1, keepdims=True))  # softmax backward
            ds *= 1.0 / math.sqrt(self.head_dim)
            dq, dk = ds @ s.k, ds.swapaxes(-1, -2) @ s.q
            dh = self._linear_backward(merge_heads(dq), s.h, s.xa["q"], f"{p}.attn.q")
            dh += self._linear_backward(merge_heads(dk), s.h, s.xa["k"], f"{p}.attn.k")
            dh += self._linear_backward(merge_heads(dv), s.h, s.xa["v"], f"{p}.attn.v")
            dx = dx + rms_norm_backward(dh, s.h, s.r)
        # The embeddings are frozen: dx stops here.

    # ---- training --------------------------------------------------------------------------------------

    def check_tokens(self, arr: Array, what: str) -> Array:
        arr = np.asarray(arr)
        if arr.dtype.kind not in "iu":
            raise ValidationError(f"must hold integers, got dtype {arr.dtype}", field=what)
        if arr.size and (arr.min() < 0 or arr.max() >= self.config.vocab_size):
            raise ValidationError(
                f"token ids must lie in [0, {self.config.vocab_size}), got {int(arr.min())}..{int(arr.max())}",
                field=what,
            )
        return arr.astype(np.int64)

    def _prepare(
        self, batch: Sequence[DatumArrays], loss_fn: str, config: Mapping[str, float]
    ) -> list[tuple[Array, Array, dict[str, Array]]]:
        """Check every datum before anything is computed, so a bad batch leaves no partial gradients."""
        prepared = []
        for i, datum in enumerate(batch):
            tokens = self.check_tokens(datum.input_tokens, f"data[{i}].model_input")
            if tokens.ndim != 1 or not 1 <= tokens.shape[0] <= self.config.max_seq_len:
                raise ValidationError(
                    f"needs 1..{self.config.max_seq_len} tokens in one dimension, got shape {tokens.shape}",
                    field=f"data[{i}].model_input",
                )
            raw = datum.loss_fn_inputs.get("target_tokens")
            if raw is None:
                raise ValidationError(
                    f"{loss_fn} needs 'target_tokens' but datum {i} lacks it",
                    field=f"data[{i}].loss_fn_inputs.target_tokens",
                )
            targets = self.check_tokens(raw, f"data[{i}].loss_fn_inputs.target_tokens")
            if targets.ndim not in (1, 2) or targets.shape[0] != tokens.shape[0] or 0 in targets.shape:
                raise ValidationError(
                    f"shape {targets.shape} must be [{tokens.shape[0]}] or [{tokens.shape[0]}, K] "
                    "to match the model input",
                    field=f"data[{i}].loss_fn_inputs.target_tokens",
                )
            inputs = losses.prepare_inputs(
                loss_fn, datum.loss_fn_inputs, targets.shape, i, config, self.dtype, sampled=datum.sampled
            )
            prepared.append((tokens, targets, inputs))
        return prepared

    def forward_backward(
        self,
        batch: Sequence[DatumArrays],
        loss_fn: str,
        loss_fn_config: Mapping[str, float] | None = None,
        forward_only: bool = False,
    ) -> tuple[list[dict[str, Array]], dict[str, float]]:
        """Loss and per-datum target log-probs; unless ``forward_only``, add the gradients to ``grads``.

        Outputs per datum: ``logprobs`` and ``elementwise_loss``, float32 with ``target_tokens``' shape.
        Metrics: ``loss:sum`` (summed over every token of every datum).
        """
        config = losses.resolve_config(loss_fn, loss_fn_config)
        prepared = self._prepare(batch, loss_fn, config)
        if not forward_only and not self.params:
            raise ValidationError("this model has no LoRA adapters to train")
        body_trained = not forward_only and any(site != "unembed" for site in self.sites)
        max_rows = max((len(tokens) for tokens, _, _ in prepared), default=1)
        head = UnembedHead(self, max_rows, train=not forward_only, need_dh=body_trained)
        outputs: list[dict[str, Array]] = []
        total = 0.0
        for tokens, targets, inputs in prepared:
            acts: list[_LayerActs] = []
            hf, rf = self.hidden(tokens[None, :], keep=acts if body_trained else None)
            hf, rf = hf[0], rf[0]
            tgt = targets.reshape(targets.shape[0], -1)  # [T, K]
            lp = np.empty(tgt.shape, dtype=self.dtype)
            elem = np.empty(tgt.shape, dtype=self.dtype)
            d_hf = np.empty_like(hf) if body_trained else None
            if loss_fn in losses.SEQUENCE_LEVEL:
                # The per-token terms need the whole datum's log-probs first: one extra logits pass.
                for sl in head.slices(hf.shape[0]):
                    lp[sl] = head.forward(hf[sl], tgt[sl])[0]
                inputs = {**inputs, **losses.sequence_terms(loss_fn, lp, inputs)}
            for sl in head.slices(hf.shape[0]):
                lp[sl], e, z = head.forward(hf[sl], tgt[sl])
                chunk_inputs = {key: arr[sl] for key, arr in inputs.items()}
                elem[sl], g = losses.token_losses(loss_fn, lp[sl], chunk_inputs, config)
                if forward_only:
                    continue
                d_rows = head.backward(hf[sl], tgt[sl], e, z, g)
                if d_hf is not None:
                    d_hf[sl] = d_rows
            if d_hf is not None:
                self._hidden_backward(d_hf[None], hf[None], rf[None], acts)
            total += float(np.sum(elem, dtype=np.float64))
            outputs.append(
                {
                    "logprobs": lp.reshape(targets.shape).astype(np.float32),
                    "elementwise_loss": elem.reshape(targets.shape).astype(np.float32),
                }
            )
        return outputs, {"loss:sum": total}

    def optim_step(
        self,
        learning_rate: float = 1e-4,
        beta1: float = 0.9,
        beta2: float = 0.95,
        eps: float = 1e-12,
        weight_decay: float = 0.0,
        grad_clip_norm: float = 0.0,
    ) -> dict[str, float]:
        """One AdamW step on the accumulated gradients, which are then zeroed."""
        return self.apply_optimizer(AdamParams(learning_rate, beta1, beta2, eps, weight_decay, grad_clip_norm))

    def apply_optimizer(self, hp: AdamParams | DimuonParams) -> dict[str, float]:
        """One step of this model's optimizer with ``hp`` (which must be of its family); grads are zeroed."""
        want = "dimuon" if isinstance(hp, DimuonParams) else "adamw"
        if want != self.optimizer_kind:
            name = "DimuonParams" if want == "dimuon" else "AdamParams"
            raise ValidationError(
                f"this model was created with the {self.optimizer_kind} optimizer; {name} are for {want}",
                field="optimizer_params" if want == "dimuon" else "adam_params",
            )
        metrics: dict[str, float] = self.optimizer.step(self.params, self.grads, hp)
        for g in self.grads.values():
            g.fill(0)
        return metrics

    # ---- scoring ----------------------------------------------------------------------------------------

    def prompt_logprobs(self, tokens: Sequence[int] | Array, topk: int = 0) -> tuple[Array, Array, Array]:
        """Log-probs of ``tokens[1:]`` given their prefixes, plus the top-``topk`` alternatives per position.

        Returns ``(logprobs [T-1], topk_ids [T-1, k], topk_logprobs [T-1, k])`` (k = min(topk, V); empty
        when ``topk`` is 0); top-k rows are sorted by log-prob, ties by token id. The arithmetic is the
        training path's, so these equal ``forward_backward``'s log-probs for the same weights.
        """
        arr = self.check_tokens(tokens, "prompt")
        if arr.ndim != 1 or arr.shape[0] < 1:
            raise ValidationError(f"needs a non-empty 1-D token list, got shape {arr.shape}", field="prompt")
        k = min(max(topk, 0), self.config.vocab_size)
        n = arr.shape[0] - 1
        lp = np.empty(n, dtype=np.float32)
        top_ids = np.empty((n, k), dtype=np.int64)
        top_lp = np.empty((n, k), dtype=np.float32)
        if n == 0:
            return lp, top_ids, top_lp
        hf, _ = self.hidden(arr[None, :-1])
        head = UnembedHead(self, n)
        targets = arr[1:, None]
        for sl in head.slices(n):
            s = head.logits(hf[0, sl])
            order = None
            if k:
                # Sorting the whole row is stable and so breaks ties by token id; argpartition first
                # would be faster for a large vocabulary but picks arbitrarily among ties at the edge.
                order = np.argsort(-s, axis=1, kind="stable")[:, :k]
                top_ids[sl] = order
                top = np.take_along_axis(s, order, axis=1)
            picked, _, z = head.normalise(s, targets[sl])
            lp[sl] = picked[:, 0]
            if order is not None:
                top_lp[sl] = top - np.log(z)
        return lp, top_ids, top_lp

    def new_cache(self, batch: int, capacity: int) -> KVCache:
        """An empty KV cache for ``batch`` sequences of up to ``capacity`` positions."""
        capacity = min(capacity, self.config.max_seq_len)
        shape = (batch, self.n_heads, capacity, self.head_dim)
        layers = range(self.config.n_layers)
        return KVCache([np.zeros(shape, self.dtype) for _ in layers], [np.zeros(shape, self.dtype) for _ in layers])

    # ---- state ------------------------------------------------------------------------------------------

    def _meta(self) -> dict[str, Array]:
        c, spec = self.config, self.lora_spec
        model = [c.vocab_size, c.d_model, c.n_layers, c.n_heads, c.d_ff, c.max_seq_len, c.seed]
        lora = [] if spec is None else [spec.rank, spec.seed, spec.train_attn, spec.train_mlp, spec.train_unembed]
        return {
            "meta.model_config": np.asarray(model, dtype=np.int64),
            "meta.lora_config": np.asarray(lora, dtype=np.int64),
            "meta.lora_scale": np.asarray(self.scale, dtype=np.float64),
        }

    def state_dict(self, include_optimizer: bool = True) -> dict[str, Array]:
        """Copies of the adapters (``lora.<name>``), optionally the optimizer (``optim.<...>``), and the
        configuration (``meta.<...>``) that :meth:`load_state_dict` checks. Base weights are not included:
        they are a function of ``config.seed``."""
        out = self._meta()
        for name in sorted(self.params):
            out[f"lora.{name}"] = self.params[name].copy()
        if include_optimizer:
            out.update({f"optim.{k}": v for k, v in self.optimizer.state_dict().items()})
        return out

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Restore adapters (and the optimizer when the state has it; otherwise it is reset).

        Gradient sums are zeroed. Continuing after a load is bit-identical to never having stopped.
        """
        for key, want in self._meta().items():
            got = state.get(key)
            if got is None or np.asarray(got).shape != want.shape or not np.array_equal(got, want):
                raise ValidationError(f"checkpoint was made for another model: {key} is {got!r}, expected {want!r}")
        for name, arr in self.params.items():
            src = state.get(f"lora.{name}")
            if src is None or np.asarray(src).shape != arr.shape:
                raise ValidationError(f"missing or mis-shaped adapter array {name!r}", field=f"lora.{name}")
        known = {*self._meta(), *(f"lora.{n}" for n in self.params)}
        optim_state = {k[len("optim.") :]: v for k, v in state.items() if k.startswith("optim.")}
        unknown = sorted(k for k in state if k not in known and not k.startswith("optim."))
        if unknown:
            raise ValidationError(f"unexpected checkpoint entries {unknown}")
        # A full-state checkpoint keeps its optimizer family (Dimuon state resumes as Dimuon).
        kind = optimizer_for_state(optim_state) if optim_state else self.optimizer_kind
        optimizer = make_optimizer(kind, self.params, self.lora_spec.rank if self.lora_spec is not None else None)
        if optim_state:
            optimizer.load_state_dict(optim_state)
        for name, arr in self.params.items():
            arr[...] = np.asarray(state[f"lora.{name}"]).astype(self.dtype)
        self.optimizer, self.optimizer_kind = optimizer, kind
        for g in self.grads.values():
            g.fill(0)
