"""rl names the cookbook exposes: RLTestSetEvaluator, discounted_future_sum_vectorized, StreamMinibatchConfig."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.completers import StopCondition, TokensWithLogprobs
from tinkerlite.errors import ValidationError
from tinkerlite.rl.metric_util import RLTestSetEvaluator, dataset_to_env_group_builders
from tinkerlite.rl.metrics import discounted_future_sum_vectorized
from tinkerlite.rl.train import StreamMinibatchConfig
from tinkerlite.rl.types import Action, ActionExtra, Env, EnvGroupBuilder, Observation, RLDataset, StepResult
from tinkerlite.types import ModelInput


class _EchoEnv(Env):
    """Reward 1 when the policy answers with this env's target token; env 99 always raises."""

    def __init__(self, target: int) -> None:
        self.target = target

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        return ModelInput.from_ints([self.target]), [0]

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        if self.target == 99:
            raise RuntimeError("env broke")
        return StepResult(
            reward=float(action == [self.target]),
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=[0],
            metrics={"hit": 1.0},
        )


class _Group(EnvGroupBuilder):
    def __init__(self, target: int, tag: str) -> None:
        self.target, self.tag = target, tag

    async def make_envs(self) -> Sequence[Env]:
        return [_EchoEnv(self.target), _EchoEnv(self.target)]

    def logging_tags(self) -> list[str]:
        return [self.tag]


class _Dataset(RLDataset):
    def __init__(self, targets: list[list[int]]) -> None:
        self.targets = targets

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        return [_Group(t, "even" if t % 2 == 0 else "odd") for t in self.targets[index]]

    def __len__(self) -> int:
        return len(self.targets)


async def _policy(ob: ModelInput, stop: StopCondition) -> TokensWithLogprobs:
    target = ob.to_ints()[0]
    return TokensWithLogprobs(tokens=[target if target < 3 else 7], maybe_logprobs=[-0.1])


def test_rl_test_set_evaluator_prefixes_metrics_and_scores_groups() -> None:
    ds = _Dataset([[1, 2], [5]])
    assert len(dataset_to_env_group_builders(ds)) == 3
    ev = RLTestSetEvaluator(ds, max_tokens=8, name="val")
    metrics = asyncio.run(ev.eval_token_completer(_policy))
    assert metrics["val/env/all/reward/total"] == pytest.approx(2 / 3)
    assert metrics["val/env/odd/reward/total"] == pytest.approx(0.5)
    assert all(k.startswith("val/") for k in metrics)
    assert ev.last_result is not None
    assert (ev.last_result.num_examples, ev.last_result.num_correct, ev.last_result.num_errors) == (3, 2, 0)
    assert ev.last_result.score == pytest.approx(2 / 3)


def test_rl_test_set_evaluator_error_strategy() -> None:
    ds = _Dataset([[1, 99]])
    with pytest.raises(RuntimeError, match="env broke"):
        asyncio.run(RLTestSetEvaluator(ds, max_tokens=8).eval_token_completer(_policy))

    from tinkerlite.rl.rollout_strategy import RetryOnFailure

    ev = RLTestSetEvaluator(ds, max_tokens=8, strategy=RetryOnFailure(max_retries=1))
    metrics = asyncio.run(ev.eval_token_completer(_policy))
    assert metrics["test/rollout_errors/groups_skipped"] == 1.0 and metrics["test/rollout_errors/RuntimeError"] == 1.0
    assert ev.last_result is not None and ev.last_result.num_errors == 1 and ev.last_result.num_correct == 1


def test_discounted_future_sum_vectorized_keeps_array_type() -> None:
    assert discounted_future_sum_vectorized([1.0, 2.0, 3.0], 0.5) == [2.75, 3.5, 3.0]
    assert discounted_future_sum_vectorized([], 0.9) == []
    np = pytest.importorskip("numpy")
    out = discounted_future_sum_vectorized(np.array([1.0, 0.0, 1.0], dtype=np.float32), 1.0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.tolist() == [2.0, 1.0, 1.0]


def test_stream_minibatch_config() -> None:
    cfg = StreamMinibatchConfig(groups_per_batch=8, num_minibatches=2)
    assert (cfg.groups_per_batch, cfg.num_minibatches) == (8, 2)
    with pytest.raises(ValidationError, match="num_minibatches"):
        StreamMinibatchConfig(groups_per_batch=8, num_minibatches=0)
    with pytest.raises(TypeError):
        StreamMinibatchConfig(groups_per_batch=8)  # type: ignore[call-arg]


def test_rl_test_set_evaluator_exports_rollout_summaries(tmp_path: Path) -> None:
    from tinkerlite.rl.rollout_logging import (
        RolloutSummaryExportConfig,
        rollout_summaries_jsonl_path,
        serialize_rollout_summaries,
        write_rollout_summaries_jsonl,
    )

    class Store:
        def __init__(self) -> None:
            self.calls: list[tuple[int, list[dict[str, Any]], str]] = []

        def write_rollouts(self, iteration: int, records: list[dict[str, Any]], base_name: str = "train") -> None:
            self.calls.append((iteration, records, base_name))

    store = Store()
    ev = RLTestSetEvaluator(_Dataset([[1, 5]]), max_tokens=8)
    export = RolloutSummaryExportConfig(split="test", iteration=3, base_name="eval_x", sampling_client_step=7)
    asyncio.run(ev.eval_token_completer(_policy, rollout_summary_export=export, store=store))
    ((iteration, records, base),) = store.calls
    assert (iteration, base, len(records)) == (3, "eval_x", 4)
    r = records[0]
    assert r["schema_version"] == 1 and r["split"] == "test" and r["sampling_client_step"] == 7
    assert r["tags"] == ["odd"] and r["total_reward"] == 1.0 and r["steps"][0]["ac_len"] == 1
    assert [x["total_reward"] for x in records] == [1.0, 1.0, 0.0, 0.0]
    path = rollout_summaries_jsonl_path(tmp_path, "train")
    assert path.name == "train_rollout_summaries.jsonl"
    with pytest.warns(DeprecationWarning):
        write_rollout_summaries_jsonl(path, split="s", iteration=0, trajectory_groups_P=[], taglist_P=[])
    assert (
        path.read_text() == ""
        and serialize_rollout_summaries(split="s", iteration=0, trajectory_groups_P=[], taglist_P=[]) == []
    )
