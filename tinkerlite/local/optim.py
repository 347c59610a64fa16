"""AdamW as Tinker's ``AdamParams`` describe it, following ``torch.optim.AdamW`` step for step.

One step, for every trainable array ``p`` with gradient ``g`` (after optional clipping):

1. global-norm clipping (``torch.nn.utils.clip_grad_norm_``): ``n = sqrt(Σ ||g||²)`` over all arrays;
   when ``grad_clip_norm > 0`` every ``g`` is scaled by ``min(1, grad_clip_norm / (n + 1e-6))``;
2. decoupled weight decay: ``p ← p · (1 − lr·weight_decay)``;
3. moments: ``m ← β1·m + (1 − β1)·g``, ``v ← β2·v + (1 − β2)·g²``;
4. bias-corrected update with step ``t`` (1 on the first step):
   ``p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)``.

Scalars are Python floats (double), arrays keep their dtype. The gradient norm is summed in float64,
where torch would sum in the parameters' dtype; the difference is far below float32 resolution of the
clipping factor's effect. Everything is in place and in a fixed key order, so it is deterministic.

Dimuon (SDK 0.38 ``DimuonParams``; selected at model creation with ``optimizer_config: {"type": "dimuon",
"version": 1}``) is in :mod:`.dimuon`; :func:`make_optimizer` and :func:`optimizer_for_state` pick a family.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

np = require("numpy", "the local server's optimizer", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = [
    "OPTIMIZERS",
    "AdamParams",
    "AdamW",
    "clip_by_global_norm",
    "global_norm",
    "make_optimizer",
    "optimizer_for_state",
]


@dataclass(frozen=True)
class AdamParams:
    """Tinker's ``AdamParams`` with the SDK's defaults."""

    learning_rate: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-12
    weight_decay: float = 0.0
    grad_clip_norm: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "learning_rate": self.learning_rate >= 0,
            "beta1": 0 <= self.beta1 < 1,
            "beta2": 0 <= self.beta2 < 1,
            "eps": self.eps >= 0,
            "weight_decay": self.weight_decay >= 0,
            "grad_clip_norm": self.grad_clip_norm >= 0,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (ok and math.isfinite(value)):
                raise ValidationError(f"out of range: {value!r}", field=f"adam_params.{name}")


def global_norm(grads: Mapping[str, Array]) -> float:
    """L2 norm of all arrays together, accumulated in float64 in sorted key order."""
    total = 0.0
    for key in sorted(grads):
        g = grads[key].astype(np.float64, copy=False)
        total += float(np.dot(g.ravel(), g.ravel()))
    return math.sqrt(total)


def clip_by_global_norm(grads: MutableMapping[str, Array], max_norm: float) -> float:
    """Scale ``grads`` in place so their global norm is at most ``max_norm`` (0 disables); return the norm before."""
    norm = global_norm(grads)
    if max_norm > 0:
        coef = max_norm / (norm + 1e-6)
        if coef < 1.0:
            for key in sorted(grads):
                grads[key] *= grads[key].dtype.type(coef)
    return norm


class AdamW:
    """First and second moments per array plus a shared step count; see the module docstring."""

    kind = "adamw"

    def __init__(self, params: Mapping[str, Array]) -> None:
        self.step_count = 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: Mapping[str, Array], grads: MutableMapping[str, Array], hp: AdamParams) -> dict[str, float]:
        """Update ``params`` in place from ``grads`` (which may be clipped in place); return metrics."""
        grad_norm = clip_by_global_norm(grads, hp.grad_clip_norm)
        self.step_count += 1
        t = self.step_count
        bias1 = 1.0 - hp.beta1**t
        bias2_sqrt = math.sqrt(1.0 - hp.beta2**t)
        step_size = hp.learning_rate / bias1
        for key in sorted(params):
            p, g, m, v = params[key], grads[key], self.m[key], self.v[key]
            one = p.dtype.type
            if hp.weight_decay:
                p *= one(1.0 - hp.learning_rate * hp.weight_decay)
            m *= one(hp.beta1)
            m += one(1.0 - hp.beta1) * g
            v *= one(hp.beta2)
            v += one(1.0 - hp.beta2) * (g * g)
            denom = np.sqrt(v)
            denom /= one(bias2_sqrt)
            denom += one(hp.eps)
            p -= one(step_size) * (m / denom)
        return {"grad_norm:mean": grad_norm, "learning_rate:mean": float(hp.learning_rate)}

    def state_dict(self) -> dict[str, Array]:
        """Copies of the moments (``m.<key>``, ``v.<key>``) and the step count (``step``, int64 scalar)."""
        out: dict[str, Array] = {"step": np.asarray(self.step_count, dtype=np.int64)}
        for key in sorted(self.m):
            out[f"m.{key}"] = self.m[key].copy()
            out[f"v.{key}"] = self.v[key].copy()
        return out

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Restore from :meth:`state_dict`'s output; keys and shapes must match exactly."""
        expected = {"step", *(f"m.{k}" for k in self.m), *(f"v.{k}" for k in self.v)}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise ValidationError(f"optimizer state keys differ: missing {missing}, unexpected {extra}")
        for key in sorted(self.m):
            for name, store in (("m", self.m), ("v", self.v)):
                arr = np.asarray(state[f"{name}.{key}"])
                if arr.shape != store[key].shape:
                    raise ValidationError(f"shape {arr.shape} != {store[key].shape}", field=f"optimizer.{name}.{key}")
                store[key] = arr.astype(store[key].dtype, copy=True)
        step = np.asarray(state["step"])
        if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
            raise ValidationError(f"bad step count {step!r}", field="optimizer.step")
        self.step_count = int(step)


OPTIMIZERS = ("adamw", "dimuon")


def make_optimizer(kind: str, params: Mapping[str, Array], rank: int | None = None) -> Any:
    """A fresh optimizer of family ``kind`` (``adamw`` or ``dimuon``) for ``params``."""
    if kind == "adamw":
        return AdamW(params)
    if kind == "dimuon":
        from .dimuon import Dimuon

        return Dimuon(params, rank=rank)
    raise ValidationError(
        f"unknown optimizer {kind!r}; accepted: {', '.join(OPTIMIZERS)}", field="optimizer_config.type"
    )


def optimizer_for_state(state: Mapping[str, Array]) -> str:
    """Which family wrote an optimizer ``state_dict``: Dimuon keeps ``momentum.*``, AdamW ``m.*``/``v.*``."""
    return "dimuon" if any(k.startswith("momentum.") for k in state) else "adamw"
