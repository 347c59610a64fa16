"""KL numbers for RL: sample-vs-train drift, pre/post-update KL, and the KL penalty against a reference.

The arithmetic is split from the I/O: :func:`kl_penalty_advantages` and :func:`kl_from_logprobs` are
pure functions of logprob vectors (through the backend shim, so pure and numpy agree); the ``async``
wrappers only fetch reference logprobs with ``compute_logprobs``. Names and formulas are the
cookbook's ``rl/metrics.py``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from ..backend import get_backend
from ..errors import ValidationError
from ..types import Datum, ModelInput, TensorData

__all__ = [
    "compute_kl_sample_train",
    "compute_post_kl",
    "compute_sampling_client_metrics",
    "discounted_future_sum",
    "discounted_future_sum_vectorized",
    "full_sequence_inputs",
    "incorporate_kl_penalty",
    "kl_from_logprobs",
    "kl_penalty_advantages",
    "score_sequences",
]


def _floats(x: Any) -> list[float]:
    if isinstance(x, TensorData):
        return [float(v) for v in x.dense_flat()]
    if hasattr(x, "tolist"):
        x = x.tolist()
    return [float(v) for v in x]


def _action_values(datum: Datum, values: Sequence[float], where: str) -> tuple[list[float], list[float]]:
    """(sampled logprobs, other values) at the datum's action positions (mask > 0)."""
    sampled = _floats(datum.loss_fn_inputs["logprobs"])
    mask = _floats(datum.loss_fn_inputs["mask"])
    if not (len(sampled) == len(mask) == len(values)):
        raise ValidationError(
            f"{len(sampled)} sampled logprobs, {len(mask)} mask entries, {len(values)} other logprobs", field=where
        )
    keep = [i for i, m in enumerate(mask) if m > 0]
    return [sampled[i] for i in keep], [float(values[i]) for i in keep]


def kl_from_logprobs(
    data_D: Sequence[Datum], other_logprobs_D: Sequence[Sequence[float]]
) -> tuple[float, float, float]:
    """``(mean(q - p), ½·mean((q - p)²), -mean(q))`` over action tokens, q the sampled logprobs."""
    if len(data_D) != len(other_logprobs_D):
        raise ValidationError(f"{len(data_D)} datums but {len(other_logprobs_D)} logprob lists", field="logprobs_D")
    b = get_backend()
    qs: list[float] = []
    ps: list[float] = []
    for i, (datum, other) in enumerate(zip(data_D, other_logprobs_D, strict=True)):
        q, p = _action_values(datum, _floats(other), f"data_D[{i}]")
        qs += q
        ps += p
    if not qs:
        raise ValidationError("no action tokens (mask > 0) in the batch", field="data_D")
    q_v, p_v = b.asarray(qs), b.asarray(ps)
    diff = b.sub(q_v, p_v)
    return b.mean(diff), 0.5 * b.mean(b.mul(diff, diff)), -b.mean(q_v)


def compute_kl_sample_train(data_D: Sequence[Datum], training_logprobs_D: Sequence[Any]) -> dict[str, float]:
    """How far the trainer's logprobs moved from the sampler's on the tokens it trained on."""
    v1, v2, entropy = kl_from_logprobs(data_D, [_floats(t) for t in training_logprobs_D])
    return {"optim/kl_sample_train_v1": v1, "optim/kl_sample_train_v2": v2, "optim/entropy": entropy}


def full_sequence_inputs(data_D: Sequence[Datum]) -> list[ModelInput]:
    """Each datum's unshifted sequence: its input plus the last target token."""
    return [d.model_input.append_int(int(d.loss_fn_inputs["target_tokens"].dense_flat()[-1])) for d in data_D]


async def score_sequences(sampling_client: Any, sequence_inputs: Sequence[ModelInput]) -> list[list[float | None]]:
    """Prompt logprobs of each sequence (position 0 is None), requested concurrently."""
    results = await asyncio.gather(*[sampling_client.compute_logprobs_async(s) for s in sequence_inputs])
    return [list(r) for r in results]


def _shifted(scored: Sequence[float | None], n: int, where: str) -> list[float]:
    rest = list(scored[1:])
    if len(rest) != n:
        raise ValidationError(f"the scorer returned {len(scored)} logprobs for a {n + 1}-token sequence", field=where)
    return [math.nan if v is None else float(v) for v in rest]


async def compute_post_kl(data_D: Sequence[Datum], post_sampling_client: Any) -> dict[str, float]:
    """KL between the sampled logprobs and the updated policy's (``kl_pre_post_v1/v2``)."""
    scored = await score_sequences(post_sampling_client, full_sequence_inputs(data_D))
    new = [
        _shifted(s, d.model_input.length, f"data_D[{i}]") for i, (s, d) in enumerate(zip(scored, data_D, strict=True))
    ]
    v1, v2, _ = kl_from_logprobs(data_D, new)
    return {"kl_pre_post_v1": v1, "kl_pre_post_v2": v2}


def discounted_future_sum(x: Sequence[float], gamma: float) -> list[float]:
    """``out[t] = Σ_k γ^k x[t+k]``."""
    b = get_backend()
    return [float(v) for v in b.tolist(b.discounted_cumsum(b.asarray(x), gamma))]


def discounted_future_sum_vectorized(x: Any, gamma: float) -> Any:
    """The cookbook's name for :func:`discounted_future_sum`, keeping the input's array type.

    ``out[i] = Σ_{k=0}^{T-1-i} γ^k x[i+k]`` in one backward pass. The cookbook takes and returns a torch
    tensor; here a numpy array comes back as a numpy array of its dtype, a tensor-like object with
    ``new_tensor`` (torch) as one of its dtype/device, and any other sequence as a list of floats.
    """
    out = discounted_future_sum([float(v) for v in x], gamma)
    if hasattr(x, "new_tensor"):  # torch.Tensor, without importing torch
        return x.new_tensor(out)
    if type(x).__module__ == "numpy" and hasattr(x, "dtype"):
        import numpy as np

        return np.asarray(out, dtype=x.dtype)
    return out


def masked_discounted_sum(values: Any, mask: Any, gamma: float) -> Any:
    """Discounted future sums of a per-token penalty, kept on action tokens only.

    The cookbook discounts without re-masking, so the KL of the first action tokens leaks onto the
    observation tokens before them, and ``importance_sampling`` (which never sees the mask) then trains
    on prompt tokens. Shared by the RL KL penalty and distillation's reverse-KL advantages.
    """
    b = get_backend()
    return b.mul(b.discounted_cumsum(values, gamma), mask)


def kl_penalty_advantages(
    data_D: Sequence[Datum],
    base_logprobs_D: Sequence[Sequence[float]],
    kl_penalty_coef: float,
    kl_discount_factor: float,
) -> tuple[list[list[float]], float]:
    """New advantages per datum and ``avg(logp_sampled - logp_base)`` over action tokens.

    ``adv += coef·mask·(avg - diff)`` with ``diff = (sampled - base)·mask``, optionally turned into
    discounted future sums when ``kl_discount_factor > 0`` (re-masked: see :func:`masked_discounted_sum`).
    """
    if len(data_D) != len(base_logprobs_D):
        raise ValidationError(f"{len(data_D)} datums but {len(base_logprobs_D)} base logprob lists", field="base")
    b = get_backend()
    diffs: list[Any] = []
    masks: list[Any] = []
    total_diff = 0.0
    total_mask = 0.0
    for i, (datum, base) in enumerate(zip(data_D, base_logprobs_D, strict=True)):
        sampled = b.asarray(_floats(datum.loss_fn_inputs["logprobs"]))
        mask = b.asarray(_floats(datum.loss_fn_inputs["mask"]))
        base_v = b.asarray([float(v) for v in base])
        if not (b.length(sampled) == b.length(mask) == b.length(base_v)):
            raise ValidationError(
                f"{b.length(sampled)} sampled logprobs, {b.length(mask)} mask entries, "
                f"{b.length(base_v)} base logprobs",
                field=f"data_D[{i}]",
            )
        diff = b.mul(b.sub(sampled, base_v), mask)
        diffs.append(diff)
        masks.append(mask)
        total_diff += b.sum(diff)
        total_mask += b.sum(mask)
    avg = total_diff / total_mask if total_mask else math.nan
    new_advantages: list[list[float]] = []
    for datum, diff, mask in zip(data_D, diffs, masks, strict=True):
        kl_adv = b.mul(b.mul(mask, kl_penalty_coef), b.sub(b.full(b.length(diff), avg), diff))
        if kl_discount_factor > 0:
            kl_adv = masked_discounted_sum(kl_adv, mask, kl_discount_factor)
        adv = b.add(b.asarray(_floats(datum.loss_fn_inputs["advantages"])), kl_adv)
        new_advantages.append([float(v) for v in b.tolist(adv)])
    return new_advantages, avg


async def incorporate_kl_penalty(
    data_D: Sequence[Datum],
    base_sampling_client: Any,
    kl_penalty_coef: float,
    kl_discount_factor: float,
) -> dict[str, float]:
    """Score the batch under the reference model and fold the KL penalty into ``advantages`` in place."""
    scored = await score_sequences(base_sampling_client, full_sequence_inputs(data_D))
    base = [
        _shifted(s, d.model_input.length, f"data_D[{i}]") for i, (s, d) in enumerate(zip(scored, data_D, strict=True))
    ]
    new_advs, avg = kl_penalty_advantages(data_D, base, kl_penalty_coef, kl_discount_factor)
    for datum, adv in zip(data_D, new_advs, strict=True):
        inputs: dict[str, TensorData] = datum.loss_fn_inputs  # type: ignore[assignment]
        inputs["advantages"] = TensorData.from_list(adv, "float32")
    return {"kl_policy_base": float(avg)}


def compute_sampling_client_metrics(wrapped_trajectory_groups: list[Any]) -> dict[str, Any]:
    """Staleness of the rollouts in an async batch: which policy step sampled them, and how long it took.

    Each group (the cookbook's ``WrappedTrajectoryGroup``) has ``sampling_client_step`` and
    ``metrics["time/trajectory_group_worker_loop/total"]``.
    """
    if not wrapped_trajectory_groups:
        return {}
    steps = [int(g.sampling_client_step) for g in wrapped_trajectory_groups]
    times = [float(g.metrics["time/trajectory_group_worker_loop/total"]) for g in wrapped_trajectory_groups]
    return {
        "sampling_client/step_max": max(steps),
        "sampling_client/step_min": min(steps),
        "sampling_client/step_mean": sum(steps) / len(steps),
        "time/sampling_time_max": max(times),
        "time/sampling_time_min": min(times),
        "time/sampling_time_mean": sum(times) / len(times),
    }
