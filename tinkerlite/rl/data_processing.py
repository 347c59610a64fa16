"""Trajectories → training datums: group-centred advantages, turn merging, provenance, batch assembly.

Semantics follow the cookbook's ``rl/data_processing.py`` exactly (checked against goldens made with
the official package): advantages are ``reward - mean(group)`` with no std normalisation; turns whose
observation extends the sequence so far are merged into one datum; ``mask`` is kept client-side for
metrics and the KL penalty and stripped by :func:`remove_mask` before anything is sent.
"""

from __future__ import annotations

import dataclasses
import logging
from array import array
from collections.abc import Sequence
from typing import Any, TypeAlias

from ..backend import get_backend
from ..errors import ValidationError
from ..supervised.common import create_rightshifted_model_input_and_leftshifted_targets
from ..types import (
    Datum,
    EncodedTextChunk,
    ModelInput,
    ModelInputChunk,
    PromptProvenanceSpan,
    SampledProvenanceSpan,
    TensorData,
)
from .types import PARSE_ERROR_MASKED_METRIC_KEY, Trajectory, TrajectoryGroup

__all__ = [
    "assemble_training_data",
    "compute_advantages",
    "remove_constant_reward_groups",
    "remove_mask",
    "trajectory_to_data",
]

logger = logging.getLogger(__name__)

FlatObElem: TypeAlias = "int | ModelInputChunk"
FlatOb: TypeAlias = "list[FlatObElem]"
"""A flattened observation: text tokens as ints, other chunks (images) whole."""
ProvenanceSpan: TypeAlias = "PromptProvenanceSpan | SampledProvenanceSpan"


def compute_advantages(trajectory_groups_P: Sequence[TrajectoryGroup]) -> list[list[float]]:
    """Per group: each trajectory's total reward minus the group mean (the GRPO baseline)."""
    b = get_backend()
    out: list[list[float]] = []
    for group in trajectory_groups_P:
        rewards = b.asarray(group.get_total_rewards())
        out.append([float(x) for x in b.tolist(b.sub(rewards, b.mean(rewards)))])
    return out


def _flatten_chunks(chunks: Sequence[ModelInputChunk]) -> FlatOb:
    out: FlatOb = []
    for chunk in chunks:
        if isinstance(chunk, EncodedTextChunk):
            out.extend(chunk.tokens)
        else:
            out.append(chunk)
    return out


def _flat_len(flat: Sequence[Any]) -> int:
    n = 0
    for e in flat:
        n += 1 if isinstance(e, int) else e.length
    return n


def _flat_to_model_input(flat: Sequence[Any]) -> ModelInput:
    chunks: list[ModelInputChunk] = []
    run: list[int] = []
    for e in flat:
        if isinstance(e, int):
            run.append(e)
        else:
            if run:
                chunks.append(EncodedTextChunk(tokens=run))
                run = []
            chunks.append(e)
    if run:
        chunks.append(EncodedTextChunk(tokens=run))
    return ModelInput(chunks=chunks)


def _is_prefix(prefix: list[Any], seq: list[Any]) -> bool:
    n = len(prefix)
    return n <= len(seq) and seq[:n] == prefix


def _drop_first(spans: list[Any]) -> list[Any]:
    first = spans[0]
    if first.length == 1:
        return spans[1:]
    return [dataclasses.replace(first, offset=first.offset + 1, length=first.length - 1), *spans[1:]]


def _drop_last(spans: list[Any]) -> list[Any]:
    last = spans[-1]
    if last.length == 1:
        return spans[:-1]
    return [*spans[:-1], dataclasses.replace(last, length=last.length - 1)]


def _float_tensor(values: list[float]) -> TensorData:
    # array('f') packs in C; the wire dtype is float32 whichever backend is active.
    return TensorData(array("f", values), "float32", [len(values)])


class _Accumulator:
    """The growing merged sequence of one datum and its per-token side arrays."""

    __slots__ = ("advantages", "logprobs", "mask", "nontext", "seq", "spans")

    def __init__(self, include_provenance: bool) -> None:
        self.seq: list[Any] = []
        self.nontext = False  # True once an image (or other non-text chunk) is in seq: no int-only fast paths
        self.logprobs: list[float] = []
        self.advantages: list[float] = []
        self.mask: list[float] = []
        self.spans: list[Any] | None = [] if include_provenance else None

    def token_len(self) -> int:
        return _flat_len(self.seq) if self.nontext else len(self.seq)

    def to_datum(self) -> Datum:
        full = (
            _flat_to_model_input(self.seq) if self.nontext else ModelInput(chunks=[EncodedTextChunk(tokens=self.seq)])
        )
        model_input, targets = create_rightshifted_model_input_and_leftshifted_targets(list(full.chunks))
        n = len(targets)
        if not (model_input.length == n == len(self.logprobs) - 1):
            raise ValidationError(
                f"merged sequence has {model_input.length} inputs, {n} targets, {len(self.logprobs) - 1} logprobs",
                field="trajectory_to_data",
            )
        datum = Datum(
            model_input=model_input,
            loss_fn_inputs={
                "target_tokens": TensorData(array("q", targets), "int64", [n]),
                "logprobs": _float_tensor(self.logprobs[1:]),
                "advantages": _float_tensor(self.advantages[1:]),
                "mask": _float_tensor(self.mask[1:]),
            },
        )
        spans = self.spans
        if not spans:
            return datum
        target_spans = _drop_first(spans)
        if not any(isinstance(s, SampledProvenanceSpan) for s in target_spans):
            return datum
        return datum.with_provenance(model_input=_drop_last(spans), loss_fn_inputs=target_spans)


def trajectory_to_data(traj: Trajectory, traj_advantage: float, include_provenance: bool = True) -> list[Datum]:
    """One datum per maximal run of turns whose observation extends the sequence so far.

    Observation tokens get logprob 0, advantage 0, mask 0; action tokens get their sampled logprobs,
    ``traj_advantage`` and mask 1 (both 0 on a turn flagged ``parse_error_masked``). Provenance is
    attached only while every action carries a ``sequence_id``.
    """
    data: list[Datum] = []
    acc = _Accumulator(include_provenance)
    for i, transition in enumerate(traj.transitions):
        ob_flat = _flatten_chunks(transition.ob.chunks)
        ac = transition.ac
        if not acc.seq:
            delta = ob_flat
        elif _is_prefix(acc.seq, ob_flat):
            delta = ob_flat[len(acc.seq) :]
        else:
            data.append(acc.to_datum())
            acc = _Accumulator(include_provenance)
            delta = ob_flat
        text_only = all(isinstance(c, EncodedTextChunk) for c in transition.ob.chunks)
        delta_len = len(delta) if text_only else _flat_len(delta)
        acc.nontext = acc.nontext or not text_only
        ac_logprobs = ac.logprobs if ac.tokens else (ac.maybe_logprobs or [])
        if len(ac_logprobs) != len(ac.tokens):
            raise ValidationError(
                f"{len(ac.tokens)} action tokens but {len(ac_logprobs)} logprobs", field=f"transitions[{i}].ac"
            )
        seq_id = ac.sequence_id
        if seq_id is None and (delta_len > 0 or ac.tokens):
            acc.spans = None
        if acc.spans is not None and seq_id is not None:
            if delta_len > 0:
                offset = acc.token_len()
                acc.spans.append(PromptProvenanceSpan(sequence_id=seq_id, offset=offset, length=delta_len))
            if ac.tokens:
                acc.spans.append(SampledProvenanceSpan(sequence_id=seq_id, length=len(ac.tokens)))
        masked = float(transition.metrics.get(PARSE_ERROR_MASKED_METRIC_KEY, 0.0)) >= 1.0
        n_ac = len(ac.tokens)
        acc.seq.extend(delta)
        acc.seq.extend(ac.tokens)
        zeros = [0.0] * delta_len
        acc.logprobs += zeros
        acc.logprobs += ac_logprobs
        acc.advantages += zeros
        acc.advantages += [0.0 if masked else float(traj_advantage)] * n_ac
        acc.mask += zeros
        acc.mask += [0.0 if masked else 1.0] * n_ac
    if acc.seq:
        data.append(acc.to_datum())
    return data


def assemble_training_data(
    trajectory_groups_P: Sequence[TrajectoryGroup],
    advantages_P: Sequence[Sequence[float]],
    include_provenance: bool = True,
) -> tuple[list[Datum], list[dict[str, int]]]:
    """Flat datums plus, per datum, the ``group_idx``/``traj_idx`` it came from."""
    if len(trajectory_groups_P) != len(advantages_P):
        raise ValidationError(
            f"{len(trajectory_groups_P)} groups but {len(advantages_P)} advantage lists", field="advantages_P"
        )
    b = get_backend()
    data_D: list[Datum] = []
    metadata_D: list[dict[str, int]] = []
    for i_group, (group, advs) in enumerate(zip(trajectory_groups_P, advantages_P, strict=True)):
        adv_list = b.tolist(advs) if not isinstance(advs, list) else advs
        if len(adv_list) != len(group.trajectories_G):
            raise ValidationError(
                f"{len(group.trajectories_G)} trajectories but {len(adv_list)} advantages",
                field=f"advantages_P[{i_group}]",
            )
        for i_traj, (traj, adv) in enumerate(zip(group.trajectories_G, adv_list, strict=True)):
            new = trajectory_to_data(traj, float(adv), include_provenance=include_provenance)
            data_D.extend(new)
            metadata_D.extend({"group_idx": i_group, "traj_idx": i_traj} for _ in new)
    return data_D, metadata_D


def remove_constant_reward_groups(trajectory_groups_P: Sequence[TrajectoryGroup]) -> list[TrajectoryGroup]:
    """Drop groups whose total rewards are all equal (zero advantage, no gradient); keep one if all are."""
    kept = [g for g in trajectory_groups_P if not _all_same(g.get_total_rewards())]
    if not kept:
        logger.warning("All rewards are uniform. There will be no gradient")
        return list(trajectory_groups_P[0:1])
    return kept


def _all_same(xs: list[float]) -> bool:
    return all(x == xs[0] for x in xs)


def remove_mask(datum: Datum) -> Datum:
    """The datum as sent: ``mask`` is client-side only; provenance and other fields are kept."""
    if "mask" not in datum.loss_fn_inputs:
        return datum
    return dataclasses.replace(datum, loss_fn_inputs={k: v for k, v in datum.loss_fn_inputs.items() if k != "mask"})
