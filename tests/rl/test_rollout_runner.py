"""rl.rollout_runner: budgets, stop reasons, truncation counting, timeouts and hooks, with a scripted
policy and env whose expected outcomes follow the cookbook 0.6.1 runner's documented rules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tinkerlite.completers import TokensWithLogprobs
from tinkerlite.rl.rollout_limits import ParseErrorPolicy, RolloutLimits
from tinkerlite.rl.rollout_presets import RolloutConfig, agentic
from tinkerlite.rl.rollout_runner import TRUNCATION_METRIC_KEY, SamplingTurnTimeoutError, run_rollout
from tinkerlite.rl.types import Env, InitialObservationOverflow, StepResult
from tinkerlite.types import ModelInput


class Policy:
    """Emits ``n`` tokens per call (capped by max_tokens, then stop_reason "length")."""

    def __init__(self, n: int = 3, delay: float = 0.0) -> None:
        self.n, self.delay, self.budgets = n, delay, []  # type: ignore[var-annotated]

    async def __call__(self, ob: ModelInput, stop: Any, *, max_tokens: int | None = None) -> TokensWithLogprobs:
        self.budgets.append(max_tokens)
        if self.delay:
            await asyncio.sleep(self.delay)
        k = self.n if max_tokens is None else min(self.n, max_tokens)
        return TokensWithLogprobs(tokens=[7] * k, maybe_logprobs=[-0.1] * k,
                                  stop_reason="length" if k < self.n else "stop")


class CountingEnv(Env):
    """Observation grows by the action plus 2 tokens; done after ``turns`` steps with stop/completed."""

    def __init__(self, turns: int = 10, prompt: int = 5, overflow: bool = False) -> None:
        self.turns, self.len, self.steps, self.overflow = turns, prompt, 0, overflow
        self.tool_cap: int | None = None
        self.policy_seen: ParseErrorPolicy | None = None
        self.injected: list[Any] = []

    async def initial_observation(self) -> Any:
        if self.overflow:
            return InitialObservationOverflow(reward=-0.1, metrics={"stop/max_tokens": 1.0}, logs={"why": "big"})
        return ModelInput.from_ints([1] * self.len), [0]

    async def step(self, action: list[int], *, extra: Any = None) -> StepResult:
        self.steps += 1
        self.len += len(action) + 2
        done = self.steps >= self.turns
        metrics = {"stop/completed": 1.0} if done else {}
        return StepResult(reward=1.0 if done else 0.0, episode_done=done,
                          next_observation=ModelInput.from_ints([1] * self.len), next_stop_condition=[0],
                          metrics=metrics)

    def set_max_tool_calls(self, n: int) -> None:
        self.tool_cap = n

    def set_parse_error_policy(self, policy: ParseErrorPolicy) -> None:
        self.policy_seen = policy

    async def inject_messages(self, messages: list[Any]) -> tuple[ModelInput, list[int]]:
        self.injected += messages
        self.len += 4 * len(messages)
        return ModelInput.from_ints([1] * self.len), [0]


def run(env: Env, policy: Any = None, **kw: Any) -> Any:
    return asyncio.run(run_rollout(policy or Policy(), env, **kw))


def _stops(traj: Any) -> list[str]:
    return [k for t in traj.transitions for k in t.metrics if k.startswith("stop/")]


def test_unconfigured_runs_to_the_env_end() -> None:
    p = Policy()
    traj = run(CountingEnv(turns=3), p)
    assert traj.stop_reason == "completed" and len(traj.transitions) == 3 and p.budgets == [None] * 3
    assert _stops(traj) == ["stop/completed"]


def test_per_call_budget_is_the_min_of_the_terms_and_trajectory_budget_stops() -> None:
    p = Policy(n=3)
    traj = run(CountingEnv(turns=100, prompt=5), p, limits=RolloutLimits(max_trajectory_tokens=22, max_turn_tokens=4))
    # observations: 5 -> 10 -> 15 -> 20; remaining 17, 12, 7, then 2 (>1) so a 4th call with budget 2
    assert p.budgets == [4, 4, 4, 2]
    assert traj.stop_reason == "max_tokens" and _stops(traj) == ["stop/max_tokens"]
    assert traj.transitions[-1].episode_done and traj.transitions[-1].metrics[TRUNCATION_METRIC_KEY] == 1.0


def test_sampled_budget_and_trajectory_wins_when_both_bind() -> None:
    traj = run(CountingEnv(turns=100), Policy(n=3), limits=RolloutLimits(max_sampled_tokens=7))
    assert traj.stop_reason == "max_sampled_tokens" and sum(len(t.ac.tokens) for t in traj.transitions) == 6
    both = run(CountingEnv(turns=100, prompt=9), Policy(n=3), limits=RolloutLimits(max_trajectory_tokens=10,
                                                                                   max_sampled_tokens=1))
    assert both.stop_reason == "max_tokens" and both.transitions[0].ac.tokens == []  # stopped before any turn


def test_runner_max_turns_and_pushes_into_the_env() -> None:
    env = CountingEnv(turns=100)
    policy = ParseErrorPolicy(max_consecutive=2)
    traj = run(env, limits=RolloutLimits(max_turns=2, max_tool_calls=9), parse_errors=policy)
    assert traj.stop_reason == "max_turns" and len(traj.transitions) == 2
    assert env.tool_cap == 9 and env.policy_seen is policy
    env2 = CountingEnv(turns=100)
    cfg = run(env2, config=agentic())  # config supplies limits (10 turns) and the parse policy
    assert cfg.stop_reason == "max_turns" and len(cfg.transitions) == 10 and env2.tool_cap == 30
    env3 = CountingEnv(turns=100)
    env3.rollout_limits = RolloutLimits(max_turns=1)  # type: ignore[attr-defined]  # the env's advertised budgets
    assert run(env3).stop_reason == "max_turns"


def test_initial_overflow_is_one_empty_terminal_transition() -> None:
    traj = run(CountingEnv(overflow=True))
    assert traj.stop_reason == "max_tokens" and traj.transitions[0].reward == -0.1
    assert traj.transitions[0].ac.tokens == [] and traj.transitions[0].logs == {"why": "big"}


def test_timeouts_graceful_for_the_rollout_raising_for_a_sample() -> None:
    traj = run(CountingEnv(turns=100), Policy(delay=0.05), limits=RolloutLimits(rollout_timeout_seconds=0.12))
    assert traj.stop_reason == "rollout_timeout" and _stops(traj)[-1] == "stop/rollout_timeout"
    with pytest.raises(SamplingTurnTimeoutError, match=r"sampling_turn_timeout_seconds=0\.01"):
        run(CountingEnv(), Policy(delay=0.2), limits=RolloutLimits(sampling_turn_timeout_seconds=0.01))


class Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def on_turn_begin(self, state: Any) -> Any:
        self.calls.append(f"begin{state.turn_index}")
        return [{"role": "user", "content": "hint"}] if state.turn_index == 1 else None

    async def on_stop_reason(self, reason: str, state: Any) -> str | None:
        self.calls.append(f"stop:{reason}")
        if reason == "completed" and state.turn_index < 3:
            return None  # clear: keep going
        return "custom_done" if reason == "completed" else reason

    async def on_grade(self, state: Any) -> None:
        self.calls.append("grade")

    async def on_artifacts(self, state: Any) -> None:
        self.calls.append("artifacts")


def test_hooks_inject_clear_and_override() -> None:
    env = CountingEnv(turns=2)
    hooks = Hooks()
    traj = run(env, hooks=hooks)
    assert env.injected == [{"role": "user", "content": "hint"}]
    assert traj.stop_reason == "custom_done" and _stops(traj) == ["stop/custom_done"]
    assert [t.episode_done for t in traj.transitions] == [False, False, True]
    assert hooks.calls[-2:] == ["grade", "artifacts"] and "stop:completed" in hooks.calls
    traj2 = run(CountingEnv(turns=100), hooks=Hooks(), limits=RolloutLimits(max_turns=1))
    assert traj2.stop_reason == "max_turns"


def test_injection_into_an_env_without_the_seam_is_refused() -> None:
    class Plain(CountingEnv):
        inject_messages = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="does not support message injection"):
        run(Plain(turns=3), hooks=Hooks())


def test_config_none_pieces_fall_back() -> None:
    traj = run(CountingEnv(turns=2), config=RolloutConfig())
    assert traj.stop_reason == "completed"


def test_training_rollouts_enforce_the_env_advertised_budgets() -> None:
    from tinkerlite.rl.rollouts import do_single_rollout

    env = CountingEnv(turns=100)
    env.rollout_limits = RolloutLimits(max_turns=3, max_tool_calls=4)  # type: ignore[attr-defined]
    traj = asyncio.run(do_single_rollout(Policy(), env))
    assert traj.stop_reason == "max_turns" and len(traj.transitions) == 3 and env.tool_cap == 4
    env2 = CountingEnv(turns=100)
    env2.rollout_limits = RolloutLimits(max_turns=3)  # type: ignore[attr-defined]
    assert len(asyncio.run(do_single_rollout(Policy(), env2, max_turns=2)).transitions) == 2  # the tighter cap
    plain = CountingEnv(turns=4)
    assert asyncio.run(do_single_rollout(Policy(), plain)).stop_reason == "completed"


class _Group:
    def __init__(self, envs: list[Env], group_reward: float = 0.5, delay: float = 0.0) -> None:
        self.envs, self.group_reward, self.delay, self.graded = envs, group_reward, delay, 0

    async def make_envs(self) -> list[Env]:
        return self.envs

    async def compute_group_rewards(self, trajs: Any, envs: Any) -> list[tuple[float, dict[str, Any]]]:
        self.graded += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return [(self.group_reward, {"g": 1}) for _ in trajs]

    async def cleanup(self) -> None:
        pass

    def logging_tags(self) -> list[str]:
        return []


def test_group_termination_policy_clamps_skips_and_bounds_grading() -> None:
    from tinkerlite.rl.rollout_limits import TerminationRewardPolicy
    from tinkerlite.rl.rollouts import do_group_rollout

    capped = CountingEnv(turns=100)
    capped.rollout_limits = RolloutLimits(max_turns=1)  # type: ignore[attr-defined]
    done = CountingEnv(turns=1)
    b = _Group([capped, done])
    policy = TerminationRewardPolicy(zero_reward_on_limit=True)
    g = asyncio.run(do_group_rollout(b, Policy(), termination=policy))  # type: ignore[arg-type]
    totals = g.get_total_rewards()
    assert totals == [0.0, 1.5] and g.metrics_G[0] == {"g": 1, "zero_reward_on_limit": 1.0}
    assert g.metrics_G[1] == {"g": 1}
    untouched = asyncio.run(do_group_rollout(_Group([CountingEnv(turns=100)]), Policy()))  # type: ignore[arg-type]
    assert untouched.get_total_rewards() == [1.5]  # no policy: the env reward 1.0 + the group reward 0.5

    slow = [CountingEnv(turns=100), CountingEnv(turns=100)]
    for e in slow:
        e.rollout_limits = RolloutLimits(rollout_timeout_seconds=0.05)  # type: ignore[attr-defined]
    skipper = _Group(slow)
    skip = TerminationRewardPolicy(zero_reward_on_limit=True, skip_grading_on_timeout=True)
    g2 = asyncio.run(do_group_rollout(skipper, Policy(delay=0.02), termination=skip))  # type: ignore[arg-type]
    assert skipper.graded == 0 and g2.final_rewards_G == [0.0, 0.0]
    hung = _Group([CountingEnv(turns=1)], delay=1.0)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(do_group_rollout(hung, Policy(), termination=TerminationRewardPolicy(  # type: ignore[arg-type]
            grader_timeout_seconds=0.05)))


def test_rl_config_resolves_termination_and_strategy_by_model() -> None:
    from tinkerlite.rl.rollout_limits import TerminationRewardPolicy
    from tinkerlite.rl.rollout_strategy import FailFast, MinViableGroup
    from tinkerlite.rl.train import Config

    def cfg(model: str, **kw: Any) -> Config:
        return Config(learning_rate=1e-3, dataset_builder=None, model_name=model, max_tokens=4, log_path="/tmp/x",
                      recipe_name="rl",
                      **kw)  # type: ignore[arg-type]

    inkling = cfg("thinkingmachines/Inkling:peft:131072")
    term = inkling.effective_termination()
    assert term is not None and term.zero_reward_on_limit and term.grader_timeout_seconds == 900
    assert isinstance(inkling.effective_rollout_strategy(), MinViableGroup)
    plain = cfg("tinkerlite/tiny-chat")
    assert plain.effective_termination() is None and isinstance(plain.effective_rollout_strategy(), FailFast)
    mine = TerminationRewardPolicy(zero_reward_on_limit=True)
    assert cfg("tinkerlite/tiny-chat", termination=mine).effective_termination() is mine
