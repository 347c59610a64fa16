"""rl package surface: rollout strategies, epoch cycling, interleaved multi-domain datasets, __all__."""

from __future__ import annotations

import asyncio
import pickle
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

import tinkerlite.rl as rl
from tinkerlite.completers import StopCondition, TokensWithLogprobs
from tinkerlite.exceptions import AllTrajectoriesFailedError, ConfigurationError
from tinkerlite.rl.rollout_strategy import MinViableGroup, rollout_strategy_from_config
from tinkerlite.types import ModelInput


class _Env(rl.Env):
    def __init__(self, fail: bool, delay: float = 0.0) -> None:
        self.fail, self.delay = fail, delay

    async def initial_observation(self) -> tuple[rl.Observation, StopCondition]:
        return ModelInput.from_ints([1]), [0]

    async def step(self, action: rl.Action, *, extra: rl.ActionExtra | None = None) -> rl.StepResult:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("flaky")
        return rl.StepResult(
            reward=1.0, episode_done=True, next_observation=ModelInput.empty(), next_stop_condition=[0]
        )


class _Builder(rl.EnvGroupBuilder):
    """``plan`` says, per make_envs() call, which envs fail (the first call makes the whole group)."""

    def __init__(self, plan: list[list[bool]], delay: float = 0.0, delays: list[float] | None = None) -> None:
        self.plan, self.calls, self.delay, self.delays = plan, 0, delay, delays

    async def make_envs(self) -> Sequence[rl.Env]:
        fails = self.plan[min(self.calls, len(self.plan) - 1)]
        delays = self.delays if self.delays is not None and self.calls == 0 else [self.delay] * len(fails)
        self.calls += 1
        return [_Env(f, d) for f, d in zip(fails, delays, strict=True)]


async def _policy(ob: ModelInput, stop: StopCondition) -> TokensWithLogprobs:
    return TokensWithLogprobs(tokens=[5], maybe_logprobs=[-0.1])


def _run(strategy: rl.RolloutStrategy, builder: _Builder) -> object:
    return asyncio.run(strategy.execute(builder, _policy))


def test_fail_fast_propagates_and_retry_recovers() -> None:
    with pytest.raises(RuntimeError, match="flaky"):
        _run(rl.FailFast(), _Builder([[False, True, False]]))
    assert not rl.FailFast().catches_group_errors and rl.RetryOnFailure().catches_group_errors
    b = _Builder([[False, True, True], [False]])
    res = _run(rl.RetryOnFailure(max_retries=2), b)
    assert (
        len(res.trajectories) == 3 and len(res.envs) == 3 and [e.error_type for e in res.errors] == ["RuntimeError"] * 2
    )
    assert b.calls == 3  # the group, then one fresh env per retry
    with pytest.raises(RuntimeError):
        _run(rl.RetryOnFailure(max_retries=1), _Builder([[True, True], [True]]))


def test_retry_on_timeout() -> None:
    b = _Builder([[False], [False]], delays=[5.0])  # the first env hangs, its replacement is quick
    res = _run(rl.RetryOnFailure(max_retries=1, per_rollout_timeout=0.1), b)
    assert len(res.trajectories) == 1 and res.errors[0].error_type == "TimeoutError"
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        _run(rl.RetryOnFailure(max_retries=0, per_rollout_timeout=0.05), _Builder([[False]], delay=5.0))


def test_min_viable_group() -> None:
    res = _run(MinViableGroup(min_successful=2, max_retries=0), _Builder([[False, False, True, True]]))
    assert len(res.trajectories) == 2 and len(res.errors) == 2
    with pytest.raises(AllTrajectoriesFailedError, match="minimum viable group size 3"):
        _run(MinViableGroup(max_retries=0), _Builder([[False, False, True, True]]))  # ceil(0.75 * 4) = 3
    # failures land at 0.05 s and 0.4 s: the first is retried (2 < floor 3), the second is accepted (3 >= 3)
    b = _Builder([[False, False, True, True], [False]], delays=[0.0, 0.0, 0.05, 0.4])
    res = _run(MinViableGroup(max_retries=5), b)
    assert len(res.trajectories) == 3 and len(res.errors) == 2 and b.calls == 2


def test_strategies_pickle_and_config_mapping() -> None:
    for s in (rl.FailFast(), rl.RetryOnFailure(max_retries=7), MinViableGroup(min_successful=2)):
        assert pickle.loads(pickle.dumps(s)) == s
    assert rollout_strategy_from_config(False) == rl.FailFast()
    assert rollout_strategy_from_config(True) == rl.RetryOnFailure()
    custom = rl.RetryOnFailure(max_retries=9)
    assert rollout_strategy_from_config(custom) is custom
    with pytest.raises(ConfigurationError):
        rollout_strategy_from_config("yes")  # type: ignore[arg-type]


class _DS(rl.RLDataset):
    def __init__(self, tag: str, n_batches: int, per_batch: int, last: int | None = None) -> None:
        self.tag, self.n, self.per, self.last = tag, n_batches, per_batch, last

    def get_batch(self, index: int) -> Sequence[rl.EnvGroupBuilder]:
        k = self.last if (self.last is not None and index == self.n - 1) else self.per
        return [_Named(f"{self.tag}{index * self.per + j}") for j in range(k)]

    def __len__(self) -> int:
        return self.n


class _Named(rl.EnvGroupBuilder):
    def __init__(self, name: str) -> None:
        self.name = name

    async def make_envs(self) -> Sequence[rl.Env]:
        return []


def test_epoch_cycled_dataset() -> None:
    ds = rl.EpochCycledRLDataset(_DS("a", 3, 1), num_epochs=2, shuffle_seed=1)
    order = [ds.get_batch(i)[0].name for i in range(len(ds))]
    assert len(order) == 6 and sorted(order[:3]) == sorted(order[3:]) == ["a0", "a1", "a2"]
    assert [rl.epoch_batch_index(i, 3) for i in range(6)] == [0, 1, 2, 0, 1, 2]
    assert list(rl.cycle_permutation(5, 1, 0)) == list(rl.cycle_permutation(5, "1", 0))
    with pytest.raises(IndexError):
        ds.get_batch(6)
    with pytest.raises(ValueError):
        rl.EpochCycledRLDataset(_DS("a", 1, 1), num_epochs=0)


class _SrcBuilder(rl.RLDatasetBuilder):
    pass


def test_interleaved_dataset_weights_cycles_and_determinism() -> None:
    from tinkerlite.rl.interleaved import _InterleavedRLDataset

    a, b = _DS("a", 10, 4, last=2), _DS("b", 3, 2)  # 38 and 6 groups
    ds = _InterleavedRLDataset([a, b], [3.0, 1.0], groups_per_batch=8, total_batches=40, seed=0)
    names = [g.name for i in range(len(ds)) for g in ds.get_batch(i)]
    assert len(names) == 320
    share = Counter(n[0] for n in names)
    assert 0.68 < share["a"] / 320 < 0.82
    bs = [n for n in names if n[0] == "b"]
    assert sorted(bs[:6]) == [f"b{i}" for i in range(6)]  # the first pass covers source b once
    again = _InterleavedRLDataset([a, b], [3.0, 1.0], groups_per_batch=8, total_batches=40, seed=0)
    assert [g.name for i in range(len(again)) for g in again.get_batch(i)] == names
    natural = _InterleavedRLDataset([a, b], [3.0, 1.0], groups_per_batch=8)
    assert len(natural) == 3  # b's 6 groups at 2 per batch
    for bad in (dict(weights=[1.0]), dict(weights=[1.0, 0.0]), dict(groups_per_batch=0)):
        kw = {"weights": [1.0, 1.0], "groups_per_batch": 2, **bad}
        with pytest.raises(ValueError):
            _InterleavedRLDataset([a, b], **kw)  # type: ignore[arg-type]


def test_package_all_is_the_cookbooks() -> None:
    assert set(rl.__all__) == {
        "Action",
        "ActionExtra",
        "Env",
        "EnvGroupBuilder",
        "Logs",
        "Metrics",
        "Observation",
        "RLDataset",
        "RLDatasetBuilder",
        "RolloutError",
        "StepResult",
        "Trajectory",
        "TrajectoryGroup",
        "Transition",
        "EpochCycledRLDataset",
        "cycle_permutation",
        "epoch_batch_index",
        "InterleavedRLDatasetBuilder",
        "FailFast",
        "RetryOnFailure",
        "RolloutStrategy",
    }
    assert all(hasattr(rl, n) for n in rl.__all__)


def test_group_rollout_with_strategy_scores_and_cleans_up() -> None:
    from tinkerlite.rl.rollout_strategy import do_group_rollout_with_strategy

    class Scored(_Builder):
        cleaned = 0

        async def compute_group_rewards(self, trajectory_group: Any, env_group: Any) -> list[tuple[float, Any]]:
            return [(10.0, {"n": len(env_group)}) for _ in trajectory_group]

        async def cleanup(self) -> None:
            Scored.cleaned += 1

    g = asyncio.run(do_group_rollout_with_strategy(Scored([[False, True], [False]]), _policy, rl.RetryOnFailure()))
    assert g.get_total_rewards() == [11.0, 11.0] and [e.error_type for e in g.rollout_errors] == ["RuntimeError"]
    assert g.metrics_G == [{"n": 2}, {"n": 2}] and Scored.cleaned == 1
    with pytest.raises(RuntimeError):
        asyncio.run(do_group_rollout_with_strategy(Scored([[True]]), _policy, rl.FailFast()))
    assert Scored.cleaned == 2
