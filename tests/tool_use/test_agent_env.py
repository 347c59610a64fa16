"""AgentToolMessageEnv / EnvFromMessageEnv rules, per the cookbook 0.6.1's documented semantics: episode
ends, tool-call budgets (pre-dispatch and mid-batch), tool stops, one-shot and policy parse-error handling,
LENGTH handling, context overflow and grading scope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tinkerlite.renderers.base import Message, ToolCall, UnparsedToolCall
from tinkerlite.rl.message_env import EnvFromMessageEnv
from tinkerlite.rl.rollout_limits import ParseErrorPolicy, RolloutLimits, TerminationRewardPolicy
from tinkerlite.rl.rollout_presets import RolloutConfig, agentic
from tinkerlite.tool_use import AgentToolMessageEnv, ToolResult, build_agent_tool_env, simple_tool_result, tool

ORDER: list[str] = []


@tool
async def echo(text: str) -> ToolResult:
    """Echo."""
    ORDER.append(text)
    await asyncio.sleep(0.01 if text == "slow" else 0)
    return simple_tool_result(text)


@tool
def stopper() -> ToolResult:
    """Ends the episode."""
    return simple_tool_result("bye", should_stop=True)


def _call(name: str, i: int, **args: Any) -> ToolCall:
    return ToolCall(function=ToolCall.FunctionBody(name=name, arguments=json.dumps(args)), id=f"c{i}")


def _msg(*calls: ToolCall, unparsed: int = 0, text: str = "") -> Message:
    m: Message = {"role": "assistant", "content": text}
    if calls:
        m["tool_calls"] = list(calls)
    if unparsed:
        m["unparsed_tool_calls"] = [UnparsedToolCall(raw_text="{bad", error=f"err{i}") for i in range(unparsed)]
    return m


GRADED: list[list[Message]] = []


async def reward(messages: list[Message]) -> tuple[float, dict[str, float]]:
    GRADED.append(list(messages))
    return 1.0, {"graded": 1.0}


def _env(**kw: Any) -> AgentToolMessageEnv:
    env = AgentToolMessageEnv(tools=[echo, stopper], initial_messages=[{"role": "user", "content": "go"}],
                              max_turns=kw.pop("max_turns", 5), reward_fn=reward, **kw)
    asyncio.run(env.initial_observation())
    return env


def step(env: AgentToolMessageEnv, m: Message) -> Any:
    return asyncio.run(env.step(m))


def test_no_tool_calls_completes_and_grades_the_full_history() -> None:
    GRADED.clear()
    env = _env()
    r = step(env, _msg(_call("echo", 0, text="a")))
    assert not r.episode_done and r.next_messages[-1]["content"] == "a"
    assert r.logs["tool_call_0"] == 'echo({"text": "a"})'
    r = step(env, _msg(text="done"))
    assert r.episode_done and r.reward == 1.0 and r.metrics == {"stop/completed": 1.0, "graded": 1.0}
    assert GRADED[-1][0] == {"role": "user", "content": "go"}  # no termination policy: full history


def test_tool_call_budget_pre_dispatch_and_mid_batch() -> None:
    env = _env(max_tool_calls=3)
    step(env, _msg(_call("echo", 0, text="1"), _call("echo", 1, text="2")))
    r = step(env, _msg(_call("echo", 2, text="3"), _call("echo", 3, text="4")))
    assert r.episode_done and r.metrics["max_tool_calls"] == 1.0 and r.metrics["stop/max_tool_calls"] == 1.0
    assert [m["content"] for m in r.next_messages if m["role"] == "tool"] == ["1", "2", "3"]
    assert "1 tool call(s) dropped" in r.logs["tool_calls_dropped"]
    env.set_max_tool_calls(10)
    assert env.max_tool_calls == 3  # the tighter cap wins


def test_tool_stop_max_turns_and_unknown_tool() -> None:
    r = step(_env(), _msg(_call("stopper", 0)))
    assert r.episode_done and r.metrics["tool_stopped"] == 1.0 and r.metrics["stop/tool_stopped"] == 1.0
    env = _env(max_turns=1)
    r = step(env, _msg(_call("nope", 0)))
    assert r.episode_done and r.metrics["stop/max_turns"] == 1.0 and "not found" in str(r.next_messages[-1]["content"])


def test_execution_order_parallel_vs_sequential() -> None:
    ORDER.clear()
    step(_env(tool_execution="sequential"), _msg(_call("echo", 0, text="slow"), _call("echo", 1, text="fast")))
    assert ORDER == ["slow", "fast"]
    with pytest.raises(NotImplementedError, match="concurrent_safe"):
        _env(tool_execution="concurrent_safe")


def test_one_shot_parse_errors_and_mixed_turns() -> None:
    r = step(_env(), _msg(unparsed=2))
    assert r.episode_done and r.reward == -0.1 and r.metrics == {"parse_error": 1.0, "stop/parse_error": 1.0}
    assert r.logs["parse_errors"] == "err0\nerr1"
    r = step(_env(terminate_on_parse_error=False), _msg(unparsed=1))
    assert not r.episode_done and r.reward == -0.1
    r = step(_env(), _msg(_call("echo", 0, text="x"), unparsed=1))  # valid calls run: no penalty
    assert not r.episode_done and r.reward == 0.0 and r.metrics["parse_error"] == 1.0


def test_parse_error_policy_retries_then_stops() -> None:
    policy = ParseErrorPolicy(max_consecutive=1, penalty_per_error=0.2, terminal_reward=-1.0, mask_error_turns=True)
    env = _env(parse_error_policy=policy)
    r = step(env, _msg(unparsed=1))
    assert not r.episode_done and r.reward == -0.2 and r.metrics["parse_error_masked"] == 1.0
    retry = "The previous message had a formatting issue.\nError: err0"
    assert r.next_messages[-1] == {"role": "user", "content": retry}
    r = step(env, _msg(unparsed=1))
    assert r.episode_done and r.reward == -1.0 and r.metrics["stop/parse_error"] == 1.0


def test_termination_policy_grades_the_completion_suffix_with_a_timeout() -> None:
    GRADED.clear()
    env = _env(termination_policy=TerminationRewardPolicy())
    step(env, _msg(text="final"))
    assert GRADED[-1] == [{"role": "assistant", "content": "final"}]


class FakeRenderer:
    """parse_response reads the action as JSON: {"msg": Message, "clean": bool}; rendering counts messages."""

    def get_stop_sequences(self) -> list[int]:
        return [0]

    def build_generation_prompt(self, messages: list[Message], **kw: Any) -> Any:
        from tinkerlite.types import ModelInput

        return ModelInput.from_ints([1] * (10 * len(messages)))

    def parse_response(self, action: list[int]) -> tuple[Message, Any]:
        from tinkerlite.renderers.parsing import ParseTermination

        obj = json.loads(bytes(action).decode())
        return obj["msg"], ParseTermination.STOP_SEQUENCE if obj["clean"] else ParseTermination.MALFORMED


def _act(text: str = "", clean: bool = True) -> list[int]:
    msg: dict[str, Any] = {"role": "assistant", "content": text}
    return list(json.dumps({"msg": msg, "clean": clean}).encode())


def _wrapped(**kw: Any) -> EnvFromMessageEnv:
    return build_agent_tool_env(FakeRenderer(), [echo], [{"role": "user", "content": "go"}], reward, **kw)  # type: ignore[arg-type]


def test_adapter_length_structural_and_overflow_rules() -> None:
    env = _wrapped()
    asyncio.run(env.initial_observation())
    r = asyncio.run(env.step(_act("x"), extra={"stop_reason": "length"}))
    assert r.episode_done and r.reward == -0.1 and r.metrics == {"max_tokens_reached": 1.0, "stop/max_tokens": 1.0}
    r = asyncio.run(_wrapped().step(_act("x", clean=False)))
    assert r.episode_done and r.reward == -0.1 and r.metrics == {"parse_error": 1.0, "stop/parse_error": 1.0}
    structural = _wrapped(rollout_config=RolloutConfig(parse_errors=ParseErrorPolicy(terminal_reward=-2.0)))
    r = asyncio.run(structural.step(_act("x", clean=False)))
    assert r.reward == -2.0 and r.logs["parse_failure_kind"] == "structural"
    overflow = _wrapped(max_trajectory_tokens=15, max_generation_tokens=0)
    assert asyncio.run(overflow.initial_observation()) is not None
    tiny = _wrapped(max_trajectory_tokens=5)
    first = asyncio.run(tiny.initial_observation())
    assert getattr(first, "reward", None) == -0.1  # the prompt alone (10 tokens) is over budget


def test_rollout_config_sets_env_knobs() -> None:
    env = _wrapped(rollout_config=agentic())
    inner = env.message_env
    assert isinstance(inner, AgentToolMessageEnv)
    assert (inner.max_turns, inner.max_tool_calls, inner.tool_execution) == (10, 30, "sequential")
    assert env.terminate_on_length is False and env.rollout_limits == RolloutLimits(
        max_turns=10, max_trajectory_tokens=65536, max_tool_calls=30)
    assert _wrapped(model_name="thinkingmachines/Inkling").message_env.max_turns == 10  # type: ignore[attr-defined]
    assert _wrapped(model_name="Qwen/Qwen3-8B").message_env.max_turns == 5  # type: ignore[attr-defined]
    assert _wrapped(rollout_config=agentic(), max_tool_calls=3).message_env.max_tool_calls == 3  # type: ignore[attr-defined]
