"""SDK 0.38's ``gspo`` and ``stable_reinforce`` in the RL loop against the local server.

Learning is shown on ``env=digits``: the built-in tiny model starts from random weights, so the arithmetic
env's reward (the exact sum) is ~0 for every sample and gives no gradient signal (see
tinkerlite/rl/envs/digits.py). The arithmetic env still runs end to end with both losses: sampling,
provenance from the sampler's sequence ids, the loss on the server, metrics.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("numpy")  # the local server's model is numpy

from tinkerlite.errors import ValidationError
from tinkerlite.rl.envs.arithmetic import ArithmeticDatasetBuilder
from tinkerlite.rl.envs.digits import DigitsDatasetBuilder
from tinkerlite.rl.train import AsyncConfig, run

from ._loop_helpers import MODEL, metrics_rows, rl_config


@pytest.mark.parametrize(
    ("loss_fn", "loss_fn_config"), [("stable_reinforce", None), ("gspo", {"clip_low_threshold": 0.8})]
)
def test_new_losses_learn(url: str, tmp_path: Path, loss_fn: str, loss_fn_config: dict[str, float] | None) -> None:
    builder = DigitsDatasetBuilder(batch_size=8, group_size=4, n_batches=8)
    # Two substeps: the second half of each batch trains one optimizer step off-policy, so the
    # losses' ratios (GSPO's sequence ratio, StableReinforce's truncated weight) are not all 1.
    out = run(rl_config(url, tmp_path, builder, loss_fn=loss_fn, loss_fn_config=loss_fn_config, num_substeps=2))
    rewards = out["reward_history"]
    assert len(rewards) == 8
    assert rewards[0] < 0.1
    assert sum(rewards[-2:]) / 2 > rewards[0] + 0.5, rewards
    kl = [r["optim/kl_sample_train_v1"] for r in metrics_rows(tmp_path) if "optim/kl_sample_train_v1" in r]
    assert all(math.isfinite(v) for v in kl)


def test_async_runs_default_to_stable_reinforce_and_learn(url: str, tmp_path: Path) -> None:
    """AsyncConfig.loss_fn defaults to stable_reinforce (cookbook 0.6.1); groups train one step stale."""
    builder = DigitsDatasetBuilder(batch_size=8, group_size=4, n_batches=16)
    async_config = AsyncConfig(max_steps_off_policy=1, groups_per_batch=8)
    assert async_config.loss_fn == "stable_reinforce"
    out = run(rl_config(url, tmp_path, builder, async_config=async_config))
    rewards = out["reward_history"]
    assert len(rewards) == 16 and rewards[0] < 0.1
    assert sum(rewards[-3:]) / 3 > rewards[0] + 0.6, rewards
    rows = [r for r in metrics_rows(tmp_path) if "env/all/reward/total" in r]
    assert any(r["sampling_client/step_max"] < r["step"] for r in rows)  # some groups really were off-policy


@pytest.mark.parametrize("loss_fn", ["stable_reinforce", "gspo"])
def test_new_losses_run_on_the_arithmetic_env(url: str, tmp_path: Path, loss_fn: str) -> None:
    from tinkerlite.model_info import get_recommended_renderer_name

    builder = ArithmeticDatasetBuilder(
        batch_size=2,
        model_name_for_tokenizer=MODEL,
        renderer_name=get_recommended_renderer_name(MODEL),
        n_batches=2,
        group_size=3,
    )
    out = run(rl_config(url, tmp_path, builder, loss_fn=loss_fn, max_tokens=8))
    assert out["steps_run"] == 2
    rows = [r for r in metrics_rows(tmp_path) if "env/all/reward/total" in r]
    assert len(rows) == 2
    for r in rows:
        assert math.isfinite(r["optim/kl_sample_train_v1"]), r


def test_unknown_loss_is_one_line_before_anything_is_sent(tmp_path: Path) -> None:
    builder = DigitsDatasetBuilder(batch_size=2, group_size=2, n_batches=1)
    # An unreachable base_url: validation must fail before any connection is tried.
    with pytest.raises(ValidationError) as info:
        run(rl_config("http://127.0.0.1:9", tmp_path, builder, loss_fn="grpo"))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("loss_fn:") and "stable_reinforce" in msg and "'grpo'" in msg
