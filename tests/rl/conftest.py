"""Shared builders for the RL tests: trajectories from plain token lists, a backend switch, a local server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.backend_fixture import backend
from tinkerlite.completers import TokensWithLogprobs
from tinkerlite.rl.types import Trajectory, TrajectoryGroup, Transition
from tinkerlite.types import ModelInput

__all__ = ["backend", "group", "reward_group", "trajectory", "transition", "url"]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A local server (built-in tiny model, key ``tml-local``) for one test module of RL-loop tests."""
    import tinkerlite.local

    from ._loop_helpers import KEY

    with tinkerlite.local.serve(api_key=KEY) as u:
        yield u


def transition(
    ob: list[int],
    ac: list[int],
    lps: list[float] | None = None,
    reward: float = 0.0,
    seq_id: str | None = None,
    metrics: dict[str, Any] | None = None,
    done: bool = False,
) -> Transition:
    return Transition(
        ob=ModelInput.from_ints(ob),
        ac=TokensWithLogprobs(
            tokens=ac, maybe_logprobs=lps if lps is not None else [-0.5] * len(ac), sequence_id=seq_id
        ),
        reward=reward,
        episode_done=done,
        metrics=metrics or {},
    )


def trajectory(*transitions: Transition) -> Trajectory:
    last = transitions[-1]
    return Trajectory(transitions=list(transitions), final_ob=ModelInput.from_ints(last.ob.to_ints() + last.ac.tokens))


def group(
    trajs: list[Trajectory], final: list[float] | None = None, metrics: list[dict[str, Any]] | None = None
) -> TrajectoryGroup:
    return TrajectoryGroup(trajs, final if final is not None else [0.0] * len(trajs), metrics or [{} for _ in trajs])


def reward_group(rewards: list[float]) -> TrajectoryGroup:
    """One single-turn trajectory per reward (the reward given by the step)."""
    return group([trajectory(transition([1, 2], [3], reward=r, done=True)) for r in rewards])
