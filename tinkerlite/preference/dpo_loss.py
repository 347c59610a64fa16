"""The DPO loss and its exact gradient with respect to each token's log-probability, without autograd.

For pair ``i`` with per-token policy log-probs ``lp``, reference log-probs ``ref`` and weights ``w``::

    Δc = Σ w_c·(lp_c − ref_c)      Δr = Σ w_r·(lp_r − ref_r)      z = β·(Δc − Δr)
    L  = (1/B)·Σ_i −log σ(z_i)

so ``∂L/∂lp_c[t] = −β·σ(−z_i)·w_c[t]/B`` and ``∂L/∂lp_r[t] = +β·σ(−z_i)·w_r[t]/B``. These are the
numbers ``forward_backward_custom`` turns into cross-entropy weights (``weights = −grad``), which is
how the cookbook's torch-autograd DPO runs here with the standard library only. ``−log σ`` is
evaluated as a softplus that cannot overflow, so a confident pair (|z| in the hundreds) gives a finite
loss and an exactly-zero or exactly-β/B gradient instead of NaN.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from ..backend import get_backend
from ..errors import ValidationError
from ..types import TensorData

__all__ = [
    "DPOLossResult",
    "compute_dpo_loss",
    "dpo_loss_and_grads",
    "make_dpo_loss_fn",
    "sequence_logprob",
    "split_pairs",
]


def _vec(x: Any) -> Any:
    b = get_backend()
    if isinstance(x, TensorData):
        x = x.dense_flat()  # array('f'): numpy reads it through the buffer protocol, pure via list()
        return b.asarray(x) if b.name != "pure" else x.tolist()
    if b.name == "pure":
        # A list is used as it is (the sums accept ints and floats alike; anything else fails in _dot with
        # the field named): converting every log-prob first was a fifth of a pure DPO step.
        if type(x) is list:
            return x
        return x.tolist() if hasattr(x, "tolist") else list(x)
    return b.asarray(x)


def _dot(b: Any, a: Any, w: Any, where: str) -> float:
    try:
        return float(b.dot(a, w))
    except TypeError:
        raise ValidationError("must hold numbers", field=where) from None


def _scaled(b: Any, w: Any, c: float, k: int | None = None) -> list[float]:
    """``w · c`` as a list (the gradient of one datum); on the pure backend one C-level ``map`` (0.7x the
    time of a comprehension), or for prompt-mask weights (:func:`_mask_start`) two list repeats."""
    if b.name == "pure":
        if k is not None:
            return [0.0 * c] * k + [c] * (len(w) - k)
        return list(map(operator.mul, w, repeat(c)))
    return b.tolist(b.mul(w, c))  # type: ignore[no-any-return]


def sequence_logprob(logprobs: Any, weights: Any, where: str = "logprobs") -> float:
    """``Σ lp·w``: the weighted sequence log-probability DPO compares (token sum, no length normalisation)."""
    b = get_backend()
    lp, w = _vec(logprobs), _vec(weights)
    if b.length(lp) != b.length(w):
        raise ValidationError(f"{b.length(lp)} logprobs but {b.length(w)} weights", field=where)
    return _dot(b, lp, w, where)


def _mask_start(w: Any) -> int | None:
    """``k`` when the pure backend's weights ``w`` are ``k`` zeros then ones (a prompt mask, what DPO datums
    carry), else None. On such weights the sums and gradients below take C-level shortcuts, bit for bit
    the general arithmetic's: ``lp·1 = lp`` and ``+ lp·0`` never changes a sum started at +0.0."""
    if type(w) is not list or not w or w[-1] != 1.0:  # the cheap refusal first
        return None
    n = len(w)
    try:
        k = w.index(1.0)
    except ValueError:
        return None
    if w.count(1.0) != n - k or w[:k].count(0.0) != k:
        return None
    if any(math.copysign(1.0, x) < 0 for x in w[:k]):  # -0.0 weights: keep the general path's signs
        return None
    return k


def _masked_dot(lp: Any, k: int) -> float | None:
    """``Σ lp·w`` for prompt-mask weights starting at ``k``; None where the general sum must run (a
    non-finite log-prob under a zero weight gives NaN there, as in the cookbook)."""
    if type(lp) is not list:
        return None
    try:
        if k and not math.isfinite(sum(lp[:k], 0.0)):
            return None
        return float(sum(lp[k:], 0.0))
    except TypeError:  # not numbers: the general path names the field
        return None


def _log_ratios(
    logprobs: Sequence[Any], refs: Sequence[Any], weights: Sequence[Any], side: str, masks: Sequence[int | None]
) -> list[float]:
    """``Σ w·lp − Σ w·ref`` per sequence (the weights already converted)."""
    b = get_backend()
    out = []
    for i, (lp, ref, w) in enumerate(zip(logprobs, refs, weights, strict=True)):
        lp_v, ref_v = _vec(lp), _vec(ref)
        n = b.length(w)
        if b.length(lp_v) != n or b.length(ref_v) != n:
            raise ValidationError(
                f"{b.length(lp_v)} logprobs, {b.length(ref_v)} reference logprobs, {n} weights", field=f"{side}[{i}]"
            )
        k = masks[i]
        fast = (_masked_dot(lp_v, k), _masked_dot(ref_v, k)) if k is not None else (None, None)
        a = fast[0] if fast[0] is not None else _dot(b, lp_v, w, f"{side}[{i}]")
        r = fast[1] if fast[1] is not None else _dot(b, ref_v, w, f"{side}[{i}]")
        out.append(a - r)
    return out


@dataclass(frozen=True)
class DPOLossResult:
    loss: float
    metrics: dict[str, float]
    chosen_grads: list[list[float]]
    rejected_grads: list[list[float]]


def dpo_loss_and_grads(
    chosen_logprobs: Sequence[Any],
    rejected_logprobs: Sequence[Any],
    chosen_ref_logprobs: Sequence[Any],
    rejected_ref_logprobs: Sequence[Any],
    chosen_weights: Sequence[Any],
    rejected_weights: Sequence[Any],
    beta: float,
) -> DPOLossResult:
    """Mean DPO loss over the pairs, the cookbook's metrics, and ∂loss/∂logprobs per datum."""
    n = len(chosen_logprobs)
    lists = (rejected_logprobs, chosen_ref_logprobs, rejected_ref_logprobs, chosen_weights, rejected_weights)
    if n == 0:
        raise ValidationError("no pairs", field="dpo_loss")
    if any(len(x) != n for x in lists):
        raise ValidationError(f"per-pair inputs disagree in length: {[n, *(len(x) for x in lists)]}", field="dpo_loss")
    if not beta > 0:
        raise ValidationError(f"must be > 0, got {beta}", field="dpo_beta")
    b = get_backend()
    wc = [_vec(w) for w in chosen_weights]
    wr = [_vec(w) for w in rejected_weights]
    pure = b.name == "pure"
    mc = [_mask_start(w) if pure else None for w in wc]
    mr = [_mask_start(w) if pure else None for w in wr]
    delta_c = _log_ratios(chosen_logprobs, chosen_ref_logprobs, wc, "chosen", mc)
    delta_r = _log_ratios(rejected_logprobs, rejected_ref_logprobs, wr, "rejected", mr)
    metrics, coef = _pair_terms(delta_c, delta_r, beta)
    chosen_grads = [_scaled(b, w, -c, k) for w, c, k in zip(wc, coef, mc, strict=True)]
    rejected_grads = [_scaled(b, w, c, k) for w, c, k in zip(wr, coef, mr, strict=True)]
    return DPOLossResult(metrics["dpo_loss"], metrics, chosen_grads, rejected_grads)


def _pair_terms(delta_c: list[float], delta_r: list[float], beta: float) -> tuple[dict[str, float], list[float]]:
    """The cookbook's metrics from each pair's log-ratios, and ``−∂L/∂Δc_i = ∂L/∂Δr_i`` per pair."""
    b = get_backend()
    n = len(delta_c)
    dc, dr = b.asarray(delta_c), b.asarray(delta_r)
    z = b.mul(b.sub(dc, dr), beta)
    losses = b.mul(b.log_sigmoid(z), -1.0)
    # ∂L/∂z_i = −σ(−z_i)/B; σ(−z) computed directly, not as 1 − σ(z), to keep precision for large z.
    coef = [float(c) for c in b.tolist(b.mul(b.sigmoid(b.mul(z, -1.0)), beta / n))]
    metrics = {
        "dpo_loss": float(b.mean(losses)),
        "accuracy": sum(1.0 for c, r in zip(delta_c, delta_r, strict=True) if c > r) / n,
        "margin": float(b.mean(z)),
        "chosen_reward": float(b.mean(b.mul(dc, beta))),
        "rejected_reward": float(b.mean(b.mul(dr, beta))),
    }
    return metrics, coef


def _is_torch(x: Any) -> bool:
    return type(x).__module__.split(".", 1)[0] == "torch"


def compute_dpo_loss(
    chosen_logprobs: Sequence[Any],
    rejected_logprobs: Sequence[Any],
    chosen_ref_logprobs: Sequence[Any],
    rejected_ref_logprobs: Sequence[Any],
    dpo_beta: float,
) -> tuple[Any, dict[str, float]]:
    """The cookbook's ``compute_dpo_loss``: mean ``−log σ(β·(Δc − Δr))`` over pairs, and its metrics.

    Each argument holds one number per pair: the weighted sequence log-prob (``Σ w·lp``) under the policy
    or the reference. With plain numbers the loss is a float, computed through the backend shim; with
    torch tensors (a torch-style ``forward_backward_custom`` loss) it is a torch scalar that autograd
    differentiates, as in the cookbook. The metrics (``dpo_loss``, ``accuracy``, ``margin``,
    ``chosen_reward``, ``rejected_reward``) are floats either way.
    """
    n = len(chosen_logprobs)
    lists = (rejected_logprobs, chosen_ref_logprobs, rejected_ref_logprobs)
    if any(len(x) != n for x in lists):
        raise ValidationError(f"per-pair inputs disagree in length: {[n, *(len(x) for x in lists)]}", field="dpo_loss")
    if n == 0:
        raise ValidationError("no pairs", field="chosen_logprobs")
    if any(_is_torch(x) for x in (*chosen_logprobs, *rejected_logprobs)):
        return _compute_dpo_loss_torch(
            chosen_logprobs, rejected_logprobs, chosen_ref_logprobs, rejected_ref_logprobs, dpo_beta
        )
    try:
        delta_c = [float(a) - float(r) for a, r in zip(chosen_logprobs, chosen_ref_logprobs, strict=True)]
        delta_r = [float(a) - float(r) for a, r in zip(rejected_logprobs, rejected_ref_logprobs, strict=True)]
    except (TypeError, ValueError):
        raise ValidationError("must hold one number per pair", field="chosen_logprobs") from None
    metrics, _ = _pair_terms(delta_c, delta_r, dpo_beta)
    return metrics["dpo_loss"], metrics


def _compute_dpo_loss_torch(
    chosen: Sequence[Any], rejected: Sequence[Any], chosen_ref: Sequence[Any], rejected_ref: Sequence[Any], beta: float
) -> tuple[Any, dict[str, float]]:
    """The torch form: the same formula on tensors, so the returned loss carries the autograd graph."""
    from .._optional import require

    torch = require("torch", "compute_dpo_loss on torch tensors", extra="torch")
    ratio_c = torch.stack([a - torch.as_tensor(r) for a, r in zip(chosen, chosen_ref, strict=True)])
    ratio_r = torch.stack([a - torch.as_tensor(r) for a, r in zip(rejected, rejected_ref, strict=True)])
    reward_c, reward_r = beta * ratio_c, beta * ratio_r
    loss = torch.nn.functional.softplus(reward_r - reward_c).mean()  # −log σ(x) = softplus(−x)
    metrics = {
        "dpo_loss": float(loss.item()),
        "accuracy": float((ratio_c > ratio_r).float().mean().item()),
        "margin": float((reward_c - reward_r).mean().item()),
        "chosen_reward": float(reward_c.mean().item()),
        "rejected_reward": float(reward_r.mean().item()),
    }
    return loss, metrics


def split_pairs(items: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Interleaved ``[c0, r0, c1, r1, ...]`` → ``([c0, c1, ...], [r0, r1, ...])``."""
    if len(items) % 2:
        raise ValidationError(
            f"DPO batches hold (chosen, rejected) pairs, got an odd number of datums ({len(items)})", field="data"
        )
    return list(items[0::2]), list(items[1::2])


def make_dpo_loss_fn(ref_logprobs: Sequence[Any], beta: float) -> Any:
    """A ``forward_backward_custom`` loss over interleaved (chosen, rejected) datums.

    ``ref_logprobs[k]`` are the reference log-probs of datum ``k``'s targets. Returns
    ``(loss, metrics, grads)`` in datum order, the torch-free form of the client's custom-loss contract.
    """

    def loss_fn(data: list[Any], logprobs: list[Any]) -> tuple[float, dict[str, float], list[list[float]]]:
        if len(ref_logprobs) != len(data) or len(logprobs) != len(data):
            raise ValidationError(
                f"{len(data)} datums, {len(logprobs)} logprob lists, {len(ref_logprobs)} reference lists",
                field="dpo_loss_fn",
            )
        chosen, rejected = split_pairs(data)
        lp_c, lp_r = split_pairs(logprobs)
        ref_c, ref_r = split_pairs(ref_logprobs)
        res = dpo_loss_and_grads(
            lp_c,
            lp_r,
            ref_c,
            ref_r,
            [d.loss_fn_inputs["weights"] for d in chosen],
            [d.loss_fn_inputs["weights"] for d in rejected],
            beta,
        )
        grads: list[list[float]] = []
        for gc, gr in zip(res.chosen_grads, res.rejected_grads, strict=True):
            grads += [gc, gr]
        return res.loss, res.metrics, grads

    return loss_fn
