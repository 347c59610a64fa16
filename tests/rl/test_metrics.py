"""Hand-computed KL metrics, KL penalty (with discounting) and trajectory metrics."""

from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace
from typing import Any

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.rl.metric_util import compute_trajectory_metrics, dict_mean
from tinkerlite.rl.metrics import (
    compute_kl_sample_train,
    compute_post_kl,
    compute_sampling_client_metrics,
    discounted_future_sum,
    incorporate_kl_penalty,
    kl_penalty_advantages,
)
from tinkerlite.types import Datum, ModelInput

from .conftest import group, trajectory, transition


def _datum(lps: list[float], mask: list[float], adv: list[float], tokens: list[int] | None = None) -> Datum:
    n = len(lps)
    toks = tokens if tokens is not None else list(range(1, n + 2))
    return Datum(
        model_input=ModelInput.from_ints(toks[:-1]),
        loss_fn_inputs={"target_tokens": toks[1:], "logprobs": lps, "mask": mask, "advantages": adv},
    )


def test_kl_sample_train(backend: str) -> None:
    d = _datum([0.0, -1.0, -2.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0])
    m = compute_kl_sample_train([d], [[-5.0, -1.5, -1.0]])
    assert m["optim/kl_sample_train_v1"] == pytest.approx(-0.25)
    assert m["optim/kl_sample_train_v2"] == pytest.approx(0.3125)
    assert m["optim/entropy"] == pytest.approx(1.5)
    with pytest.raises(ValidationError):
        compute_kl_sample_train([_datum([0.0], [0.0], [0.0])], [[0.0]])


def test_kl_penalty_without_and_with_discount(backend: str) -> None:
    d = _datum([0.0, -1.0, -2.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0])
    base = [[-3.0, -2.0, -2.0]]
    [adv], avg = kl_penalty_advantages([d], base, 0.2, 0.0)
    assert avg == pytest.approx(0.5)
    assert adv == pytest.approx([0.0, 0.9, 1.1])
    [adv_d], _ = kl_penalty_advantages([d], base, 0.2, 0.5)
    # The cookbook would put -0.025 on the observation token; the penalty stays on actions here.
    assert adv_d == pytest.approx([0.0, 0.95, 1.1])


def test_discounted_future_sum(backend: str) -> None:
    assert discounted_future_sum([1.0, 2.0, 4.0], 0.5) == pytest.approx([1 + 1 + 1.0, 2 + 2.0, 4.0])


class FakeScorer:
    """Answers compute_logprobs_async with stored prompt logprobs (position 0 None)."""

    def __init__(self, answers: list[list[float | None]]) -> None:
        self.answers = answers
        self.prompts: list[list[int]] = []

    async def compute_logprobs_async(self, prompt: ModelInput) -> list[float | None]:
        self.prompts.append(prompt.to_ints())
        await asyncio.sleep(0)
        return self.answers[len(self.prompts) - 1]


def test_incorporate_kl_penalty_scores_full_sequences(backend: str) -> None:
    d = _datum([0.0, -1.0, -2.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0], tokens=[7, 8, 9, 10])
    scorer = FakeScorer([[None, -3.0, -2.0, -2.0]])
    metrics = asyncio.run(incorporate_kl_penalty([d], scorer, 0.2, 0.0))
    assert scorer.prompts == [[7, 8, 9, 10]]
    assert metrics == {"kl_policy_base": pytest.approx(0.5)}
    assert list(d.loss_fn_inputs["advantages"].dense_flat()) == pytest.approx([0.0, 0.9, 1.1])
    post = asyncio.run(compute_post_kl([d], FakeScorer([[None, -3.0, -1.5, -1.0]])))
    assert post == {"kl_pre_post_v1": pytest.approx(-0.25), "kl_pre_post_v2": pytest.approx(0.3125)}
    with pytest.raises(ValidationError, match="returned 2 logprobs"):
        asyncio.run(incorporate_kl_penalty([d], FakeScorer([[None, -1.0]]), 0.2, 0.0))


def test_trajectory_metrics_hand_computed(backend: str) -> None:
    t_a = trajectory(transition([1, 2, 3], [4, 5], reward=1.0, metrics={"format": 1.0}))
    t_b = trajectory(
        transition([1, 2, 3], [4], reward=0.0, metrics={"format": 0.0}), transition([1, 2, 3, 4, 6], [7, 8, 9])
    )
    g1 = group([t_a, t_b], [0.0, 0.0], [{"correct": 1.0}, {"correct": 0.0}])
    g2 = group([trajectory(transition([1], [2], reward=1.0))] * 2)
    m = compute_trajectory_metrics([g1, g2], [["easy"], ["hard"]])
    allm = {k[len("env/all/") :]: v for k, v in m.items() if k.startswith("env/all/")}
    assert allm["total_episodes"] == 4 and allm["total_turns"] == 5
    assert allm["total_ac_tokens"] == 2 + 1 + 3 + 1 + 1
    assert allm["total_ob_tokens"] == 3 + 3 + 5 + 1 + 1
    assert allm["turns_per_episode"] == pytest.approx(5 / 4)
    assert allm["reward/total"] == pytest.approx((1.0 + 0.0 + 1.0 + 1.0) / 4)
    assert allm["format"] == pytest.approx(0.5) and allm["correct"] == pytest.approx(0.5)
    assert allm["by_group/frac_mixed"] == 0.5 and allm["by_group/frac_all_good"] == 0.5
    assert m["env/easy/reward/total"] == pytest.approx(0.5) and m["env/hard/reward/total"] == 1.0
    untagged = compute_trajectory_metrics([g1, g2], [["same"], ["same"]])
    assert not any(k.startswith("env/same/") for k in untagged)


def test_dict_mean_skips_missing_and_none() -> None:
    rows: list[dict[str, Any]] = [{"a": 1.0, "b": None}, {"a": 3.0}, {"b": 2.0}]
    assert dict_mean(rows) == {"a": 2.0, "b": 2.0}


def test_sampling_client_metrics() -> None:
    groups = [
        SimpleNamespace(sampling_client_step=s, metrics={"time/trajectory_group_worker_loop/total": t})
        for s, t in ((3, 1.0), (4, 2.0), (4, 3.0))
    ]
    m = compute_sampling_client_metrics(groups)
    assert m["sampling_client/step_min"] == 3 and m["sampling_client/step_max"] == 4
    assert math.isclose(m["sampling_client/step_mean"], 11 / 3)
    assert m["time/sampling_time_mean"] == 2.0
