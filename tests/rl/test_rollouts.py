"""Rollouts: concurrency, error policies, turn limits, malformed actions, overflowing prompts."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tinkerlite.completers import StopCondition, TokenCompleter, TokensWithLogprobs
from tinkerlite.errors import ValidationError
from tinkerlite.exceptions import AllTrajectoriesFailedError
from tinkerlite.rl.data_processing import trajectory_to_data
from tinkerlite.rl.envs.guess_number import GuessNumberEnv
from tinkerlite.rl.rollout_strategy import FailFast, MinViableGroup
from tinkerlite.rl.rollouts import (
    AllRolloutsFailedError,
    RolloutErrorCounter,
    _do_group_rollout,
    do_group_rollout,
    do_single_rollout,
    gather_group_rollouts,
)
from tinkerlite.rl.types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    InitialObservationOverflow,
    StepResult,
)
from tinkerlite.tokenizers.byte_level import ByteChatTokenizer
from tinkerlite.types import ModelInput


class CountingPolicy(TokenCompleter):
    """Replies with fixed tokens after a short sleep; records how many calls were in flight at once."""

    def __init__(self, reply: list[int] | None = None, delay: float = 0.01) -> None:
        self.reply = reply or [49, 10]
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0

    async def __call__(
        self, model_input: ModelInput, stop: StopCondition, *, max_tokens: int | None = None
    ) -> TokensWithLogprobs:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return TokensWithLogprobs(tokens=list(self.reply), maybe_logprobs=[-0.1] * len(self.reply))


class OneStepEnv(Env):
    def __init__(self, fail: bool = False, reward: float = 1.0) -> None:
        self.fail, self.reward = fail, reward

    async def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        return ModelInput.from_ints([1, 2, 3]), []

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        if self.fail:
            raise RuntimeError("env exploded")
        return StepResult(self.reward, True, ModelInput.empty(), [], {"ok": 1.0})


class ForeverEnv(Env):
    """Never sets episode_done; each observation extends the last."""

    def __init__(self) -> None:
        self.tokens = [5]

    async def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        return ModelInput.from_ints(self.tokens), []

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        self.tokens = self.tokens + list(action) + [6]
        return StepResult(0.5, False, ModelInput.from_ints(self.tokens), [])


class BadStepEnv(OneStepEnv):
    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> Any:
        return {"reward": 1.0}


class OverflowEnv(Env):
    async def initial_observation(self) -> InitialObservationOverflow:
        return InitialObservationOverflow(reward=-1.0, metrics={"overflow": 1.0})

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        raise AssertionError("never stepped")


@dataclass
class Builder(EnvGroupBuilder):
    fail: list[bool]
    make_fails: bool = False
    cleaned: list[int] = field(default_factory=list)

    async def make_envs(self) -> Sequence[Env]:
        if self.make_fails:
            raise OSError("no sandbox")
        return [OneStepEnv(fail=f, reward=float(i)) for i, f in enumerate(self.fail)]

    async def cleanup(self) -> None:
        self.cleaned.append(1)

    def logging_tags(self) -> list[str]:
        return ["unit"]


def test_group_rollouts_sample_concurrently() -> None:
    policy = CountingPolicy(delay=0.05)
    builders = [Builder([False] * 8) for _ in range(8)]
    groups = asyncio.run(gather_group_rollouts(builders, policy))
    assert policy.calls == 64 and policy.max_in_flight == 64
    assert all(g is not None and g.get_total_rewards() == [float(i) for i in range(8)] for g in groups)
    assert all(b.cleaned == [1] for b in builders)


def test_fail_fast_propagates_and_cleans_up() -> None:
    b = Builder([False, True, False])
    with pytest.raises(RuntimeError, match="env exploded"):
        asyncio.run(do_group_rollout(b, CountingPolicy()))
    assert b.cleaned == [1]
    with pytest.raises(RuntimeError):
        asyncio.run(gather_group_rollouts([Builder([False]), Builder([True])], CountingPolicy()))


def test_group_rollout_takes_the_cookbook_strategy() -> None:
    """``do_group_rollout(env_group_builder, policy, strategy, termination)``: the strategy decides what a
    failed rollout does; the builder is cleaned up either way."""
    b = Builder([False, True, False])
    g = asyncio.run(do_group_rollout(b, CountingPolicy(), MinViableGroup(min_successful=2, max_retries=0)))
    # Survivors come in completion order, as the cookbook's strategies collect them: compare as a set.
    assert sorted(g.get_total_rewards()) == [0.0, 2.0] and [e.error_type for e in g.rollout_errors] == ["RuntimeError"]
    assert b.cleaned == [1]
    strict = Builder([False, True])
    with pytest.raises(RuntimeError, match="env exploded"):
        asyncio.run(do_group_rollout(strict, CountingPolicy(), strategy=FailFast()))
    assert strict.cleaned == [1]
    with pytest.raises(AllTrajectoriesFailedError):
        asyncio.run(do_group_rollout(Builder([True, True]), CountingPolicy(), MinViableGroup(max_retries=0)))


def test_drop_policy_drops_and_counts() -> None:
    b = Builder([False, True, False])
    g = asyncio.run(_do_group_rollout(b, CountingPolicy(), error_policy="drop"))
    assert g.get_total_rewards() == [0.0, 2.0]
    assert [e.error_type for e in g.rollout_errors] == ["RuntimeError"]
    counter = RolloutErrorCounter()
    results = asyncio.run(
        gather_group_rollouts(
            [Builder([False, True]), Builder([True, True]), Builder([False], make_fails=True)],
            CountingPolicy(),
            error_policy="drop",
            counter=counter,
        )
    )
    assert results[0] is not None and results[1] is None and results[2] is None
    assert counter.get_metrics() == {
        "rollout_errors/RuntimeError": 3.0,
        "rollout_errors/OSError": 1.0,
        "rollout_errors/total": 4.0,
        "rollout_errors/groups_skipped": 2.0,
    }
    with pytest.raises(AllRolloutsFailedError, match="all 2 rollouts"):
        asyncio.run(_do_group_rollout(Builder([True, True]), CountingPolicy(), error_policy="drop"))
    with pytest.raises(ValidationError):
        asyncio.run(_do_group_rollout(Builder([False]), CountingPolicy(), error_policy="retry"))  # type: ignore[arg-type]


def test_turn_limit_ends_a_never_finishing_env() -> None:
    traj = asyncio.run(do_single_rollout(CountingPolicy([7]), ForeverEnv(), max_turns=3))
    assert len(traj.transitions) == 3 and traj.stop_reason == "max_turns"
    assert traj.transitions[-1].episode_done and traj.transitions[-1].metrics["stop/max_turns"] == 1.0
    [datum] = trajectory_to_data(traj, 1.0)  # every observation extends the last: one datum
    assert datum.model_input.to_ints() == [5, 7, 6, 7, 6]
    with pytest.raises(ValidationError):
        asyncio.run(do_single_rollout(CountingPolicy(), ForeverEnv(), max_turns=0))


def test_malformed_policy_output_and_env_result() -> None:
    class BadPolicy(TokenCompleter):
        async def __call__(self, model_input: ModelInput, stop: StopCondition, *, max_tokens: int | None = None) -> Any:
            return TokensWithLogprobs(tokens=[1, 2], maybe_logprobs=[-1.0])

    with pytest.raises(ValidationError, match="2 tokens but 1 logprobs"):
        asyncio.run(do_single_rollout(BadPolicy(), OneStepEnv()))
    with pytest.raises(ValidationError, match="not StepResult"):
        asyncio.run(do_single_rollout(CountingPolicy(), BadStepEnv()))


def test_initial_observation_overflow_gives_no_datum() -> None:
    traj = asyncio.run(do_single_rollout(CountingPolicy(), OverflowEnv()))
    assert traj.stop_reason == "max_tokens" and traj.transitions[0].reward == -1.0
    assert traj.transitions[0].metrics == {"overflow": 1.0, "stop/max_tokens": 1.0}
    assert trajectory_to_data(traj, 0.5) == []


def test_guess_number_multi_turn_merges() -> None:
    class Scripted(TokenCompleter):
        def __init__(self) -> None:
            self.guesses = iter(["5\n", "8\n", "7\n"])

        async def __call__(
            self, model_input: ModelInput, stop: StopCondition, *, max_tokens: int | None = None
        ) -> TokensWithLogprobs:
            toks = list(next(self.guesses).encode())
            return TokensWithLogprobs(tokens=toks, maybe_logprobs=[-0.5] * len(toks))

    tok = ByteChatTokenizer()
    env = GuessNumberEnv(7, tok, max_turns=5)
    traj = asyncio.run(do_single_rollout(Scripted(), env))
    assert [t.reward for t in traj.transitions] == [0.0, 0.0, 1.0]
    assert traj.stop_reason == "completed"
    [datum] = trajectory_to_data(traj, 1.0)
    text = tok.decode(datum.model_input.to_ints())
    assert "5\nHigher.\nGuess: 8\nLower.\nGuess: 7" in text
    mask = list(datum.loss_fn_inputs["mask"].dense_flat())
    assert sum(mask) == 6  # three 2-byte guesses
    give_up = asyncio.run(do_single_rollout(CountingPolicy(list(b"x\n")), GuessNumberEnv(3, tok, max_turns=2)))
    assert give_up.stop_reason == "max_turns" and give_up.transitions[0].metrics["malformed"] == 1.0


def test_builders_pickle() -> None:
    from functools import partial

    from tinkerlite.rl.problem_env import ProblemGroupBuilder

    b = ProblemGroupBuilder(partial(GuessNumberEnv, 4, ByteChatTokenizer()), 3, dataset_name="guess_number")
    b2 = pickle.loads(pickle.dumps(b))
    envs = asyncio.run(b2.make_envs())
    assert len(envs) == 3 and isinstance(envs[0], GuessNumberEnv)
