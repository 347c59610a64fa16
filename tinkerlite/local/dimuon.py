"""Dimuon, Tinker's second optimizer family: momentum, then an orthogonalised (matrix-sign) update.

What the public sources fix: SDK 0.38 ``DimuonParams`` has ``learning_rate`` (>= 0, required),
``grad_clip_norm`` (0; non-positive disables) and ``beta1`` (0.9, "EMA coefficient for the momentum",
in [0, 1)). Tinker's API reference adds ``damping`` ("positive damping that smooths the row and column
preconditioner") and ``rank_lr_correction_exponent`` ("learning-rate correction relative to rank 32; zero
disables"), says the learning rate is "applied to a direction with Frobenius norm sqrt(rank), with rank
correction applied uniformly to all LoRA matrices", and that the "matrix-sign iteration count and
normalization epsilon are internal constants". Our reading, one step for each array ``p`` with gradient
``g``:

1. global-norm clipping of all gradients, as for AdamW (:func:`.optim.clip_by_global_norm`);
2. momentum, an EMA: ``M ← β1·M + (1 − β1)·g`` (no bias correction: step 4 is scale-invariant);
3. a two-sided diagonal preconditioner (the "Di" of the name, our reading): with the mean squares of
   ``M``'s rows ``ρ`` and columns ``κ``, each divided by its own mean, ``X = diag(ρ + δ)^-½ · M ·
   diag(κ + δ)^-½`` where ``δ`` is ``damping`` (default 1.0, our choice; as ``δ → ∞`` this is plain Muon);
4. the matrix sign ``D = msign(X) = U·Vᵀ`` (from ``X = U·Σ·Vᵀ``) by Newton–Schulz iteration: ``X`` is scaled
   to unit Frobenius norm, then Muon's quintic step ``X ← aX + b(XXᵀ)X + c(XXᵀ)²X`` (a, b, c = 3.4445,
   −4.7750, 2.0315) five times to lift small singular values fast, then the cubic step ``X ← 1.5X −
   0.5(XXᵀ)X`` ten times, which converges to the exact polar factor. ``D`` has every non-zero singular
   value 1, so its Frobenius norm is sqrt(rank), as the docs describe;
5. ``p ← p − lr · (32 / r)^e · D`` with ``r`` the LoRA rank (the smaller dimension of the matrix when no
   rank is given) and ``e`` = ``rank_lr_correction_exponent`` (default 0.5, our choice: it makes the
   update's Frobenius norm ``lr·sqrt(32)`` whatever the rank).

Every trainable array of the local model is a LoRA matrix. Anything else (vectors, scalars) is treated as a
``1 × n`` matrix, whose matrix sign is ``v / ‖v‖``. An all-zero momentum (LoRA's ``A`` on the first step,
when ``B`` is still zero) gives a zero update.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

from .optim import clip_by_global_norm

np = require("numpy", "the local server's optimizer", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = ["Dimuon", "DimuonParams", "matrix_sign"]

_QUINTIC = (3.4445, -4.7750, 2.0315)
_QUINTIC_STEPS = 5
_CUBIC_STEPS = 10
_NORM_EPS = 1e-7
_REFERENCE_RANK = 32


@dataclass(frozen=True)
class DimuonParams:
    """One step's Dimuon hyperparameters (SDK 0.38 fields, plus the two the API reference adds)."""

    learning_rate: float
    grad_clip_norm: float = 0.0
    beta1: float = 0.9
    damping: float = 1.0
    rank_lr_correction_exponent: float = 0.5

    def __post_init__(self) -> None:
        checks = {
            "learning_rate": self.learning_rate >= 0,
            "grad_clip_norm": True,
            "beta1": 0 <= self.beta1 < 1,
            "damping": self.damping > 0,
            "rank_lr_correction_exponent": True,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (ok and math.isfinite(value)):
                raise ValidationError(f"out of range: {value!r}", field=f"optimizer_params.{name}")


def matrix_sign(x: Array) -> Array:
    """``U·Vᵀ`` of ``x = U·Σ·Vᵀ`` by Newton–Schulz (module docstring, step 4), in ``x``'s dtype."""
    x = np.asarray(x)
    tall = x.shape[0] > x.shape[1]
    y = (x.T if tall else x).astype(np.float64)  # iterate on the wide side: the Gram matrix is the small one
    norm = float(np.linalg.norm(y))
    if norm == 0.0:
        return np.zeros_like(x)
    y = y / (norm + _NORM_EPS)
    a, b, c = _QUINTIC
    for _ in range(_QUINTIC_STEPS):
        gram = y @ y.T
        y = a * y + (b * gram + c * (gram @ gram)) @ y
    for _ in range(_CUBIC_STEPS):
        y = 1.5 * y - 0.5 * ((y @ y.T) @ y)
    return (y.T if tall else y).astype(x.dtype)


def _precondition(m: Array, damping: float) -> Array:
    """``diag(ρ + δ)^-½ · m · diag(κ + δ)^-½`` with mean-normalised row and column mean squares."""
    sq = m.astype(np.float64) ** 2
    rows, cols = sq.mean(axis=1), sq.mean(axis=0)
    rows = rows / max(float(rows.mean()), 1e-30)
    cols = cols / max(float(cols.mean()), 1e-30)
    return (m / np.sqrt(rows + damping)[:, None]) / np.sqrt(cols + damping)[None, :]


class Dimuon:
    """Momentum per array plus a step count; see the module docstring for the update."""

    kind = "dimuon"

    def __init__(self, params: Mapping[str, Array], rank: int | None = None) -> None:
        self.step_count = 0
        self.rank = rank
        self.momentum = {k: np.zeros_like(v) for k, v in params.items()}

    def direction(self, m: Array, hp: DimuonParams) -> Array:
        """The unit-singular-value direction for momentum ``m`` (steps 3 and 4)."""
        mat = m.reshape(1, -1) if m.ndim != 2 else m
        return matrix_sign(_precondition(mat, hp.damping)).reshape(m.shape)

    def lr_scale(self, shape: tuple[int, ...], hp: DimuonParams) -> float:
        rank = self.rank if self.rank is not None else (min(shape) if len(shape) == 2 else 1)
        correction: float = (_REFERENCE_RANK / rank) ** hp.rank_lr_correction_exponent
        return float(hp.learning_rate) * correction

    def step(
        self, params: Mapping[str, Array], grads: MutableMapping[str, Array], hp: DimuonParams
    ) -> dict[str, float]:
        """Update ``params`` in place from ``grads`` (which may be clipped in place); return metrics."""
        grad_norm = clip_by_global_norm(grads, hp.grad_clip_norm if hp.grad_clip_norm > 0 else 0.0)
        self.step_count += 1
        for key in sorted(params):
            p, g, m = params[key], grads[key], self.momentum[key]
            one = p.dtype.type
            m *= one(hp.beta1)
            m += one(1.0 - hp.beta1) * g
            p -= one(self.lr_scale(p.shape, hp)) * self.direction(m, hp)
        return {"grad_norm:mean": grad_norm, "learning_rate:mean": float(hp.learning_rate)}

    def state_dict(self) -> dict[str, Array]:
        """Copies of the momenta (``momentum.<key>``) and the step count (``step``, int64 scalar)."""
        out: dict[str, Array] = {"step": np.asarray(self.step_count, dtype=np.int64)}
        for key in sorted(self.momentum):
            out[f"momentum.{key}"] = self.momentum[key].copy()
        return out

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Restore from :meth:`state_dict`'s output; keys and shapes must match exactly."""
        expected = {"step", *(f"momentum.{k}" for k in self.momentum)}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise ValidationError(f"optimizer state keys differ: missing {missing}, unexpected {extra}")
        for key in sorted(self.momentum):
            arr = np.asarray(state[f"momentum.{key}"])
            if arr.shape != self.momentum[key].shape:
                raise ValidationError(
                    f"shape {arr.shape} != {self.momentum[key].shape}", field=f"optimizer.momentum.{key}"
                )
            self.momentum[key] = arr.astype(self.momentum[key].dtype, copy=True)
        step = np.asarray(state["step"])
        if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
            raise ValidationError(f"bad step count {step!r}", field="optimizer.step")
        self.step_count = int(step)
