"""Seeded multi-turn rollouts are reproducible whatever order the sampler answers in.

A shared call counter hands seeds out in request order, and a multi-turn env's second request is made when
its first answer arrives, so with one counter a run's samples depended on server timing (the calculator
agent test failed about one run in six). Each group and env now forks its own seed stream.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from tinkerlite.completers import TinkerTokenCompleter, fork_policy
from tinkerlite.rl.rollouts import gather_group_rollouts
from tinkerlite.rl.types import Env, EnvGroupBuilder, StepResult
from tinkerlite.types import ModelInput, SampledSequence, SampleResponse


class EchoSeedSampler:
    """Answers with one token, the request's seed, after a random delay (so answers arrive out of order)."""

    def __init__(self, delay_seed: int) -> None:
        self.rng = random.Random(delay_seed)

    async def sample_async(self, *, prompt: Any, num_samples: int, sampling_params: Any) -> Any:
        await asyncio.sleep(self.rng.random() * 0.004)
        seq = SampledSequence(stop_reason="stop", tokens=[sampling_params.seed], logprobs=[-1.0])
        return SampleResponse(sequences=[seq])


class TwoTurnEnv(Env):
    def __init__(self) -> None:
        self.turn = 0

    async def initial_observation(self) -> Any:
        return ModelInput.from_ints([1]), [0]

    async def step(self, action: Any, *, extra: Any = None) -> StepResult:
        self.turn += 1
        return StepResult(0.0, self.turn >= 2, ModelInput.from_ints([2]), [0])


class Group(EnvGroupBuilder):
    async def make_envs(self) -> Sequence[Env]:
        return [TwoTurnEnv() for _ in range(4)]


def _actions(delay_seed: int) -> list[list[list[int]]]:
    policy = TinkerTokenCompleter(EchoSeedSampler(delay_seed), max_tokens=4, seed=1000)
    groups = asyncio.run(gather_group_rollouts([Group() for _ in range(3)], policy))
    return [[[t.ac.tokens[0] for t in traj.transitions] for traj in g.trajectories_G] for g in groups if g]


def test_seeds_do_not_depend_on_completion_order() -> None:
    runs = [_actions(d) for d in range(4)]
    assert all(r == runs[0] for r in runs[1:])
    seeds = [s for g in runs[0] for traj in g for s in traj]
    assert len(seeds) == 3 * 4 * 2 == len(set(seeds))  # every request got its own seed


def test_fork_streams() -> None:
    base = TinkerTokenCompleter(None, max_tokens=1, seed=7)
    a, b = base.fork(0), base.fork(1)
    assert a.seed != b.seed and a.seed == base.fork(0).seed and a.calls == 0
    assert TinkerTokenCompleter(None, max_tokens=1).fork(3).seed is None  # unseeded stays unseeded
    plain = object()
    assert fork_policy(plain, 2) is plain  # type: ignore[arg-type]  # policies without fork are shared
