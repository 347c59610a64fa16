"""Tinker's built-in losses, as per-token values and their derivatives with respect to the log-prob.

Every built-in loss is a sum of per-token terms (the Tinker docs say so for PPO), so the model only needs,
for each target cell, the loss term and ``dloss/dlp`` where ``lp = log_softmax(logits)[target]``; it
backpropagates the rest. Working per token also lets the model evaluate the loss chunk by chunk while the
logits of a large vocabulary are in memory. ``gspo``'s terms also depend on a per-datum quantity (its
sequence ratio), which :func:`sequence_terms` computes from the whole datum's log-probs first.

Definitions (``lp``: the model's target log-probs; ``lp_s``: the sampler's ``logprobs`` input;
``A``: ``advantages``; ``r = exp(lp - lp_s)``; ``clip(r) = clamp(r, clip_low_threshold,
clip_high_threshold)``; sums run over every target cell):

=====================  ==========================================  ===============================
``cross_entropy``      ``-Σ w·lp``                                  ``dL/dlp = -w``
``importance_sampling`` ``-Σ r·A``                                  ``-r·A``
``ppo``                ``-Σ min(r·A, clip(r)·A)``                   ``-r·A`` where the unclipped term is
                                                                    the minimum, else 0
``cispo``              ``-Σ sg(clip(r))·lp·A``                      ``-clip(r)·A``
``dro``                ``-Σ (lp·A - ½β(lp - lp_s)²)``               ``-(A - β(lp - lp_s))``
=====================  ==========================================  ===============================

The clip thresholds are bounds on the ratio itself, not offsets: the public Tinker PPO page implements
``torch.clamp(prob_ratio, clip_low_threshold, clip_high_threshold)`` (and its prose still says the
epsilons are "fixed to 0.2", i.e. 0.8/1.2, which predates the configurable keys). We default to 0.9/1.1
as the project's protocol notes do. They come from ``loss_fn_config``, or per datum from
``loss_fn_inputs`` (the SDK types ``clip_low_threshold``/``clip_high_threshold`` as float32 inputs), as a
scalar or an array shaped like ``target_tokens``; a datum's value wins over the config. ``dro``'s
``beta`` defaults to 0.01.

``weights`` is required for ``cross_entropy`` (weights may be negative). For the RL losses it is an
optional per-token multiplier (a mask); that is a tinkerlite reading of the docs' example, which passes
it, since the public docs do not define it.

SDK 0.38 adds two losses that need more than one cell at a time:

``gspo`` (Tinker's GSPO page: GSPO-token, Zheng et al. 2025). Per datum, a sequence log-ratio over the
cells ``M`` that ``sequence_ratio_mask`` marks (non-zero): ``ℓ = mean_{t∈M}(lp_t − lp_s,t)``, ``s =
exp(ℓ)``. Every token's ratio ``s_t = sg(s)·exp(lp_t − sg(lp_t))`` has the value ``s`` and
``ds_t/dlp_t = s`` (the gradient does not flow through the mean). Loss ``−Σ_t min(s_t·A_t, clip(s_t)·A_t)``
summed over every cell, so ``dL/dlp_t = −s·A_t`` where the unclipped term is the minimum, else 0: PPO with
the sequence ratio. Config: ``clip_low_threshold``/``clip_high_threshold`` as for ``ppo`` (ratio bounds,
0.9/1.1), per datum or in ``loss_fn_config``. The docs' snippet and the cookbook's ``rl_loop`` always pass
``sequence_ratio_mask``; without it (a tinkerlite reading) ``M`` is the datum's sampled positions when it
carries provenance, else its cells with a non-zero advantage. An empty ``M`` gives ``s = 1``.

``stable_reinforce`` (Tinker's StableReinforce page, alpha). The page fixes the contract, not the formula:
a REINFORCE variant meant for off-policy data, which needs provenance (``Datum.with_provenance``) naming
the sampled sequence behind every position, accepts non-zero advantages on sampled positions only, and
whose ``loss_fn_config`` has ``kl_coeff`` (default 0.01, "a small sampler KL term", cookbook CHANGELOG).
The real service also reads what it recorded at sampling time (``record_stability_info``); the local
server records nothing extra and uses the datum's ``logprobs`` as the sampler's ``lp_s``. Our objective,
over the sampled cells ``S`` only (prompt positions, whose ``logprobs`` are padding, contribute nothing)::

    L = Σ_{t∈S} [ −sg(ρ_t)·A_t·lp_t + kl_coeff·½(lp_t − lp_s,t)² ],   ρ_t = min(1, exp(lp_t − lp_s,t))
    dL/dlp_t = −ρ_t·A_t + kl_coeff·(lp_t − lp_s,t)  on S, 0 elsewhere

REINFORCE with an importance weight truncated at 1 and held constant (V-trace's ρ̄ = 1, so stale or
mismatched samples are only ever down-weighted) plus a k2 sampler-KL penalty (zero on-policy). On-policy
(``lp = lp_s``) it is plain REINFORCE, ``−Σ A·lp``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

np = require("numpy", "the local server's losses", extra="local")

Array: TypeAlias = Any  # numpy.ndarray; numpy is an optional extra, so arrays stay untyped here

__all__ = [
    "LOSS_FNS",
    "SEQUENCE_LEVEL",
    "LossSpec",
    "prepare_inputs",
    "resolve_config",
    "sampled_positions",
    "sequence_terms",
    "token_losses",
]


@dataclass(frozen=True)
class LossSpec:
    """What one loss reads: required and optional per-token inputs, and config keys with defaults."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    config_defaults: Mapping[str, float]


_RL_INPUTS = ("target_tokens", "logprobs", "advantages")
_CLIP_DEFAULTS = {"clip_low_threshold": 0.9, "clip_high_threshold": 1.1}
_CLIP_KEYS = tuple(_CLIP_DEFAULTS)

LOSS_FNS: Mapping[str, LossSpec] = {
    "cross_entropy": LossSpec(("target_tokens", "weights"), (), {}),
    "importance_sampling": LossSpec(_RL_INPUTS, ("weights",), {}),
    "ppo": LossSpec(_RL_INPUTS, ("weights", *_CLIP_KEYS), _CLIP_DEFAULTS),
    "cispo": LossSpec(_RL_INPUTS, ("weights", *_CLIP_KEYS), _CLIP_DEFAULTS),
    "dro": LossSpec(_RL_INPUTS, ("weights",), {"beta": 0.01}),
    "gspo": LossSpec(_RL_INPUTS, ("weights", "sequence_ratio_mask", *_CLIP_KEYS), _CLIP_DEFAULTS),
    "stable_reinforce": LossSpec(_RL_INPUTS, ("weights",), {"kl_coeff": 0.01}),
}
SEQUENCE_LEVEL = frozenset({"gspo"})
"""Losses whose per-token terms depend on the whole datum's log-probs (computed before the backward)."""


def _spec(loss_fn: str) -> LossSpec:
    spec = LOSS_FNS.get(loss_fn)
    if spec is None:
        raise ValidationError(
            f"unknown loss function {loss_fn!r}; the local server knows {sorted(LOSS_FNS)}", field="loss_fn"
        )
    return spec


def resolve_config(loss_fn: str, loss_fn_config: Mapping[str, object] | None) -> dict[str, float]:
    """Defaults merged with the caller's config; unknown keys are rejected so typos do not go unnoticed."""
    spec = _spec(loss_fn)
    config = dict(spec.config_defaults)
    for key, value in (loss_fn_config or {}).items():
        field = f"loss_fn_config.{key}"
        if key not in spec.config_defaults:
            known = sorted(spec.config_defaults) or "none"
            raise ValidationError(f"{loss_fn} takes no config key {key!r} (it takes: {known})", field=field)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError(f"must be a finite number, got {value!r}", field=field)
        config[key] = float(value)
    _check_clip(config, "loss_fn_config")
    return config


def _check_clip(config: Mapping[str, Any], where: str) -> None:
    if "clip_low_threshold" in config and np.any(config["clip_low_threshold"] > config["clip_high_threshold"]):
        raise ValidationError("clip_low_threshold must not exceed clip_high_threshold", field=where)


def prepare_inputs(
    loss_fn: str,
    loss_fn_inputs: Mapping[str, Array],
    target_shape: tuple[int, ...],
    datum_index: int,
    config: Mapping[str, float],
    dtype: Any,
    sampled: Array | None = None,
) -> dict[str, Array]:
    """Check one datum's inputs and return them as ``[T, K]`` arrays of ``dtype`` (thresholds broadcast).

    ``target_tokens`` itself is checked by the model (it knows the vocabulary); here it only fixes the
    shape every other input must have. ``sampled`` is the datum's provenance as a boolean ``[T]`` array
    (True where a ``SampledProvenanceSpan`` covers the target), or None when it has none. The losses of
    the module docstring's second part get derived inputs: ``_sampled`` (``stable_reinforce``) and
    ``_ratio_mask`` (``gspo``), 0/1 arrays shaped like the others.
    """
    spec = _spec(loss_fn)
    where = f"data[{datum_index}].loss_fn_inputs"
    if loss_fn == "stable_reinforce" and sampled is None:
        raise ValidationError(
            f"stable_reinforce needs provenance on every datum (Datum.with_provenance, naming the sampled "
            f"sequence behind each position); datum {datum_index} has none",
            field=f"data[{datum_index}].loss_fn_input_spans",
        )
    for key in spec.required:
        if key not in loss_fn_inputs:
            raise ValidationError(f"{loss_fn} needs {key!r} but datum {datum_index} lacks it", field=f"{where}.{key}")
    for key in loss_fn_inputs:
        if key not in spec.required and key not in spec.optional:
            allowed = sorted((*spec.required, *spec.optional))
            raise ValidationError(f"{loss_fn} does not take {key!r} (it takes: {allowed})", field=f"{where}.{key}")
    cells = (target_shape[0], 1) if len(target_shape) == 1 else target_shape
    out: dict[str, Array] = {}
    for key, raw in loss_fn_inputs.items():
        if key == "target_tokens":
            continue
        arr = np.asarray(raw)
        if arr.dtype.kind not in "fiu":
            raise ValidationError(f"must be numeric, got dtype {arr.dtype}", field=f"{where}.{key}")
        arr = arr.astype(dtype)
        if key in _CLIP_KEYS and arr.size == 1:
            arr = np.full(cells, arr.reshape(()), dtype=dtype)
        elif arr.shape != target_shape:
            raise ValidationError(
                f"shape {arr.shape} differs from target_tokens' shape {target_shape}", field=f"{where}.{key}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValidationError("contains NaN or infinity", field=f"{where}.{key}")
        out[key] = arr.reshape(cells)
    for key in _CLIP_KEYS:
        if key in spec.config_defaults and key not in out:
            out[key] = np.full(cells, config[key], dtype=dtype)
    _check_clip(out, where)
    sampled_cells = None
    if sampled is not None:
        sampled = np.asarray(sampled, dtype=bool)
        if sampled.shape != (cells[0],):
            raise ValidationError(
                f"provenance covers {sampled.shape[0]} positions but the datum has {cells[0]}",
                field=f"data[{datum_index}].loss_fn_input_spans",
            )
        sampled_cells = np.broadcast_to(sampled[:, None], cells).astype(dtype)
    if loss_fn == "stable_reinforce":
        assert sampled_cells is not None  # checked on entry
        off = (out["advantages"] != 0) & (sampled_cells == 0)
        if np.any(off):
            t = int(np.argwhere(off)[0][0])
            raise ValidationError(
                f"stable_reinforce takes non-zero advantages on sampled positions only; position {t} is not "
                "covered by a SampledProvenanceSpan",
                field=f"{where}.advantages",
            )
        out["_sampled"] = sampled_cells
    elif loss_fn == "gspo":
        if "sequence_ratio_mask" in out:
            out["_ratio_mask"] = (out.pop("sequence_ratio_mask") != 0).astype(dtype)
        elif sampled is not None:
            out["_ratio_mask"] = sampled_cells
        else:
            out["_ratio_mask"] = (out["advantages"] != 0).astype(dtype)
    return out


def sampled_positions(spans: Sequence[object] | None) -> Array | None:
    """A datum's ``loss_fn_input_spans`` as a boolean array, True where a ``SampledProvenanceSpan``
    covers the position; None when the datum carries no provenance."""
    if spans is None:
        return None
    from tinkerlite.types import SampledProvenanceSpan

    parts = [np.full(int(getattr(s, "length", 0)), isinstance(s, SampledProvenanceSpan)) for s in spans]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def sequence_terms(loss_fn: str, lp: Array, inputs: Mapping[str, Array]) -> dict[str, Array]:
    """Per-datum quantities of a :data:`SEQUENCE_LEVEL` loss from the whole datum's log-probs ``lp``.

    ``gspo``: ``_sequence_ratio``, the stop-gradient sequence ratio ``s`` broadcast to every cell. The
    mean runs in float64 so long sequences lose nothing to float32 summation.
    """
    if loss_fn != "gspo":
        return {}
    mask = inputs["_ratio_mask"] != 0
    n = int(np.count_nonzero(mask))
    diff = lp.astype(np.float64) - inputs["logprobs"].astype(np.float64)
    log_ratio = float(diff[mask].sum() / n) if n else 0.0
    return {"_sequence_ratio": np.full(lp.shape, math.exp(log_ratio), dtype=lp.dtype)}


def token_losses(
    loss_fn: str, lp: Array, inputs: Mapping[str, Array], config: Mapping[str, float]
) -> tuple[Array, Array]:
    """Per-cell loss terms and ``dloss/dlp`` for log-probs ``lp`` (any shape, matching ``inputs``).

    ``inputs`` may be a row slice of :func:`prepare_inputs`' result: every loss is token-wise.
    """
    weights = inputs.get("weights")
    if loss_fn == "cross_entropy":
        loss, grad = -inputs["weights"] * lp, -inputs["weights"]
    else:
        lp_s, adv = inputs["logprobs"], inputs["advantages"]
        if loss_fn == "stable_reinforce":
            diff = lp - lp_s
            rho = np.minimum(np.exp(diff), 1.0)
            on = inputs["_sampled"]
            kl = config["kl_coeff"]
            loss = on * (-rho * adv * lp + 0.5 * kl * diff * diff)
            grad = on * (-rho * adv + kl * diff)
        elif loss_fn == "gspo":
            ratio = inputs["_sequence_ratio"]
            clipped = np.clip(ratio, inputs["clip_low_threshold"], inputs["clip_high_threshold"])
            unclipped_obj, clipped_obj = ratio * adv, clipped * adv
            loss = -np.minimum(unclipped_obj, clipped_obj)
            grad = np.where(unclipped_obj <= clipped_obj, -ratio * adv, 0.0).astype(lp.dtype)
        elif loss_fn == "dro":
            beta = config["beta"]
            diff = lp - lp_s
            loss = -(lp * adv - 0.5 * beta * diff * diff)
            grad = -(adv - beta * diff)
        else:
            ratio = np.exp(lp - lp_s)
            if loss_fn == "importance_sampling":
                loss, grad = -ratio * adv, -ratio * adv
            else:
                clipped = np.clip(ratio, inputs["clip_low_threshold"], inputs["clip_high_threshold"])
                if loss_fn == "ppo":
                    unclipped_obj, clipped_obj = ratio * adv, clipped * adv
                    loss = -np.minimum(unclipped_obj, clipped_obj)
                    # Where the clipped term is the strict minimum it is constant in lp, so no gradient.
                    grad = np.where(unclipped_obj <= clipped_obj, -ratio * adv, 0.0).astype(lp.dtype)
                elif loss_fn == "cispo":
                    loss, grad = -clipped * lp * adv, -clipped * adv
                else:
                    raise ValidationError(f"unknown loss function {loss_fn!r}", field="loss_fn")
        if weights is not None:
            loss, grad = loss * weights, grad * weights
    return loss, grad
