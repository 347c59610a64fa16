"""Reverse KL against the teacher on the student's own tokens, folded into the advantages.

Per datum, with ``q`` the student's sampling log-probs, ``p`` the teacher's and ``m`` the action mask::

    reverse_kl = (q − p)·m          advantage += −coef·m·reverse_kl   (optionally discounted-summed)

and ``teacher_kl = Σ reverse_kl / Σ m`` over the batch (also per dataset, i.e. per teacher). These are
the cookbook's formulas (checked against its ``incorporate_kl_penalty`` in tests/golden), with one
deliberate difference: with ``kl_discount_factor > 0`` the discounted sum is masked again, so
observation tokens keep advantage 0 (the cookbook leaks future KL into them). Unlike the RL KL penalty
nothing is centred: here the KL is the whole reward. Pure arithmetic through the backend shim;
:func:`incorporate_teacher_kl` adds the I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..backend import get_backend
from ..errors import ValidationError
from ..rl.metrics import full_sequence_inputs, masked_discounted_sum, score_sequences
from ..types import Datum, TensorData

__all__ = ["incorporate_teacher_kl", "reverse_kl_advantages", "teacher_kl_metrics"]


def _floats(x: Any) -> list[float]:
    if isinstance(x, TensorData):
        return [float(v) for v in x.dense_flat()]
    return [float(v) for v in x]


def reverse_kl_advantages(
    datum: Datum, teacher_logprobs: Sequence[float], kl_penalty_coef: float, kl_discount_factor: float
) -> tuple[list[float], float, float]:
    """(new advantages, Σ reverse KL, Σ mask) for one datum; ``teacher_logprobs`` aligned with its targets."""
    b = get_backend()
    inputs = datum.loss_fn_inputs
    sampled = b.asarray(_floats(inputs["logprobs"]))
    mask = b.asarray(_floats(inputs["mask"]))
    teacher = b.asarray([float(v) for v in teacher_logprobs])
    adv = b.asarray(_floats(inputs["advantages"]))
    n = b.length(sampled)
    if not (b.length(mask) == b.length(teacher) == b.length(adv) == n):
        raise ValidationError(
            f"{n} sampled logprobs, {b.length(mask)} mask entries, {b.length(teacher)} teacher logprobs, "
            f"{b.length(adv)} advantages",
            field="teacher_logprobs",
        )
    reverse_kl = b.mul(b.sub(sampled, teacher), mask)
    kl_adv = b.mul(b.mul(mask, -kl_penalty_coef), reverse_kl)
    if kl_discount_factor > 0:
        kl_adv = masked_discounted_sum(kl_adv, mask, kl_discount_factor)
    return [float(v) for v in b.tolist(b.add(adv, kl_adv))], b.sum(reverse_kl), b.sum(mask)


def teacher_kl_metrics(per_datum: Sequence[tuple[int, float, float]]) -> dict[str, float]:
    """``teacher_kl`` and ``teacher_kl/dataset_{i}`` from ``(dataset_idx, kl_sum, mask_sum)`` per datum."""
    total_kl = math.fsum(k for _, k, _ in per_datum)
    total_mask = math.fsum(m for _, _, m in per_datum)
    out = {"teacher_kl": total_kl / total_mask if total_mask else math.nan}
    by_ds: dict[int, list[float]] = {}
    for idx, k, m in per_datum:
        acc = by_ds.setdefault(idx, [0.0, 0.0])
        acc[0] += k
        acc[1] += m
    for idx in sorted(by_ds):
        k, m = by_ds[idx]
        if m > 0:
            out[f"teacher_kl/dataset_{idx}"] = k / m
    return out


async def incorporate_teacher_kl(
    data_D: Sequence[Datum],
    teacher_clients_D: Sequence[Any],
    dataset_indices_D: Sequence[int],
    kl_penalty_coef: float,
    kl_discount_factor: float,
) -> dict[str, float]:
    """Score every datum under its teacher and rewrite its ``advantages`` in place; returns the KL metrics."""
    if not (len(data_D) == len(teacher_clients_D) == len(dataset_indices_D)):
        raise ValidationError(
            f"{len(data_D)} datums, {len(teacher_clients_D)} teacher clients, {len(dataset_indices_D)} dataset indices",
            field="incorporate_teacher_kl",
        )
    sequences = full_sequence_inputs(data_D)
    # One request per datum, each to its own teacher, all in flight together.
    scored_by_teacher: dict[int, tuple[Any, list[int]]] = {}
    for i, client in enumerate(teacher_clients_D):
        scored_by_teacher.setdefault(id(client), (client, []))[1].append(i)
    scored: list[list[float | None]] = [[] for _ in data_D]
    import asyncio

    results = await asyncio.gather(
        *[score_sequences(client, [sequences[i] for i in idxs]) for client, idxs in scored_by_teacher.values()]
    )
    for (_, idxs), res in zip(scored_by_teacher.values(), results, strict=True):
        for i, s in zip(idxs, res, strict=True):
            scored[i] = s
    per_datum: list[tuple[int, float, float]] = []
    for i, (datum, s, ds_idx) in enumerate(zip(data_D, scored, dataset_indices_D, strict=True)):
        n = datum.model_input.length
        if len(s) != n + 1:
            raise ValidationError(
                f"the teacher returned {len(s)} logprobs for a {n + 1}-token sequence", field=f"data_D[{i}]"
            )
        teacher = [math.nan if v is None else float(v) for v in s[1:]]
        new_adv, kl_sum, mask_sum = reverse_kl_advantages(datum, teacher, kl_penalty_coef, kl_discount_factor)
        inputs: dict[str, TensorData] = datum.loss_fn_inputs  # type: ignore[assignment]
        inputs["advantages"] = TensorData.from_list(new_adv, "float32")
        per_datum.append((ds_idx, kl_sum, mask_sum))
    return teacher_kl_metrics(per_datum)
