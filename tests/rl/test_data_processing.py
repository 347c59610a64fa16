"""Hand-computed cases for advantages, turn merging, masking, provenance and batch assembly."""

from __future__ import annotations

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.rl.data_processing import (
    assemble_training_data,
    compute_advantages,
    remove_constant_reward_groups,
    remove_mask,
    trajectory_to_data,
)
from tinkerlite.rl.types import PARSE_ERROR_MASKED_METRIC_KEY
from tinkerlite.types import PromptProvenanceSpan, SampledProvenanceSpan

from .conftest import group, reward_group, trajectory, transition


def _lists(datum):  # type: ignore[no-untyped-def]
    return {k: list(v.dense_flat()) for k, v in datum.loss_fn_inputs.items()}


def test_advantages_are_group_centred_without_std(backend: str) -> None:
    advs = compute_advantages([reward_group([1.0, 0.0, 0.5, 0.5]), reward_group([2.0, 4.0])])
    assert advs == [[0.5, -0.5, 0.0, 0.0], [-1.0, 1.0]]


def test_advantages_include_group_rewards(backend: str) -> None:
    g = group([trajectory(transition([1], [2], reward=1.0)), trajectory(transition([1], [2], reward=0.0))], [0.0, 3.0])
    assert g.get_total_rewards() == [1.0, 3.0]
    assert compute_advantages([g]) == [[-1.0, 1.0]]


def test_single_turn_datum_is_shifted() -> None:
    traj = trajectory(transition([10, 11, 12], [20, 21], [-1.0, -2.0]))
    [d] = trajectory_to_data(traj, 0.5)
    assert d.model_input.to_ints() == [10, 11, 12, 20]
    assert _lists(d) == {
        "target_tokens": [11, 12, 20, 21],
        "logprobs": [0.0, 0.0, -1.0, -2.0],
        "advantages": [0.0, 0.0, 0.5, 0.5],
        "mask": [0.0, 0.0, 1.0, 1.0],
    }


def test_extension_turns_merge_into_one_datum() -> None:
    traj = trajectory(transition([1, 2], [3], [-0.25]), transition([1, 2, 3, 4], [5, 6], [-0.5, -0.75]))
    [d] = trajectory_to_data(traj, -1.0)
    assert d.model_input.to_ints() == [1, 2, 3, 4, 5]
    assert _lists(d) == {
        "target_tokens": [2, 3, 4, 5, 6],
        "logprobs": [0.0, -0.25, 0.0, -0.5, -0.75],
        "advantages": [0.0, -1.0, 0.0, -1.0, -1.0],
        "mask": [0.0, 1.0, 0.0, 1.0, 1.0],
    }


def test_non_extension_starts_a_new_datum() -> None:
    traj = trajectory(
        transition([1, 2], [3]),
        transition([1, 2, 3, 4], [5]),
        transition([9, 9], [7, 8]),
        transition([9, 9, 7, 8], [6]),
    )
    d1, d2 = trajectory_to_data(traj, 1.0)
    assert d1.model_input.to_ints() == [1, 2, 3, 4]
    assert list(d1.loss_fn_inputs["target_tokens"].dense_flat()) == [2, 3, 4, 5]
    assert d2.model_input.to_ints() == [9, 9, 7, 8]
    assert _lists(d2)["mask"] == [0.0, 1.0, 1.0, 1.0]


def test_parse_error_masked_turn_gets_no_signal() -> None:
    traj = trajectory(
        transition([1], [2, 3]),
        transition([1, 2, 3, 4], [5], metrics={PARSE_ERROR_MASKED_METRIC_KEY: 1.0}),
        transition([1, 2, 3, 4, 5, 6], [7]),
    )
    [d] = trajectory_to_data(traj, 2.0)
    assert _lists(d)["mask"] == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert _lists(d)["advantages"] == [2.0, 2.0, 0.0, 0.0, 0.0, 2.0]


def test_provenance_spans_follow_the_shift() -> None:
    traj = trajectory(transition([1, 2], [3], seq_id="a"), transition([1, 2, 3, 4], [5, 6], seq_id="b"))
    [d] = trajectory_to_data(traj, 1.0)
    assert d.model_input_spans == [
        PromptProvenanceSpan(sequence_id="a", offset=0, length=2),
        SampledProvenanceSpan(sequence_id="a", length=1),
        PromptProvenanceSpan(sequence_id="b", offset=3, length=1),
        SampledProvenanceSpan(sequence_id="b", offset=0, length=1),
    ]
    assert d.loss_fn_input_spans == [
        PromptProvenanceSpan(sequence_id="a", offset=1, length=1),
        SampledProvenanceSpan(sequence_id="a", length=1),
        PromptProvenanceSpan(sequence_id="b", offset=3, length=1),
        SampledProvenanceSpan(sequence_id="b", length=2),
    ]
    kept = remove_mask(d)
    assert "mask" not in kept.loss_fn_inputs and kept.loss_fn_input_spans == d.loss_fn_input_spans
    assert set(kept.loss_fn_inputs) == {"target_tokens", "logprobs", "advantages"}


def test_provenance_dropped_when_an_action_has_no_sequence_id() -> None:
    traj = trajectory(transition([1, 2], [3], seq_id="a"), transition([1, 2, 3, 4], [5], seq_id=None))
    [d] = trajectory_to_data(traj, 1.0)
    assert d.model_input_spans is None and d.loss_fn_input_spans is None
    [d2] = trajectory_to_data(trajectory(transition([1, 2], [3], seq_id="a")), 1.0, include_provenance=False)
    assert d2.model_input_spans is None


def test_assemble_metadata_maps_datums_back() -> None:
    split = trajectory(transition([1], [2]), transition([7], [8]))
    g0 = group([trajectory(transition([1], [2], reward=1.0)), split])
    g1 = group([trajectory(transition([5], [6]))])
    data, meta = assemble_training_data([g0, g1], [[0.5, -0.5], [0.0]])
    assert len(data) == 4
    assert meta == [
        {"group_idx": 0, "traj_idx": 0},
        {"group_idx": 0, "traj_idx": 1},
        {"group_idx": 0, "traj_idx": 1},
        {"group_idx": 1, "traj_idx": 0},
    ]
    assert list(data[2].loss_fn_inputs["advantages"].dense_flat()) == [-0.5]
    with pytest.raises(ValidationError):
        assemble_training_data([g0, g1], [[0.5, -0.5]])
    with pytest.raises(ValidationError):
        assemble_training_data([g0], [[0.5]])


def test_logprob_count_mismatch_is_reported() -> None:
    with pytest.raises(ValidationError, match="2 action tokens but 1 logprobs"):
        trajectory_to_data(trajectory(transition([1], [2, 3], [-1.0])), 0.0)


def test_remove_constant_reward_groups() -> None:
    a, b, c = reward_group([1.0, 1.0]), reward_group([0.0, 1.0]), reward_group([0.0, 0.0])
    assert remove_constant_reward_groups([a, b, c]) == [b]
    assert remove_constant_reward_groups([a, c]) == [a]
    assert remove_constant_reward_groups([]) == []
