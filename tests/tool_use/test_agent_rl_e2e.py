"""A calculator-tool agent trained with rl.train end to end on the local server.

The built-in tiny model starts random, so it first learns the tool-call format from a few supervised
steps (on the same server); the RL run then samples real tool calls that the env executes, feeds the
results back as tool messages, grades the final answer, and trains on the multi-turn trajectories.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import pytest

pytest.importorskip("numpy")

import tinkerlite
import tinkerlite.local
from tinkerlite.renderers import TrainOnWhat
from tinkerlite.renderers.base import Message, ToolCall, UnparsedToolCall
from tinkerlite.renderers.parsing import ParseTermination
from tinkerlite.renderers.role_colon import RoleColonRenderer
from tinkerlite.rl.train import Config, run
from tinkerlite.rl.types import Env, EnvGroupBuilder, RLDataset, RLDatasetBuilder
from tinkerlite.supervised.data import conversation_to_datum
from tinkerlite.tool_use import ToolResult, build_agent_tool_env, simple_tool_result, tool
from tinkerlite.types import AdamParams
from tinkerlite.utils.config import configclass

KEY = "tml-local"
CALLS: list[str] = []
ALL = TrainOnWhat.ALL_ASSISTANT_MESSAGES
PROBLEMS = [(2, 3), (4, 1), (6, 2), (3, 3)]


class ToolColonRenderer(RoleColonRenderer):
    """Role-colon text with tool calls written ``<tool>{"name": ..., "arguments": {...}}</tool>``."""

    supports_tool_calls = True
    allowed_roles = frozenset({"system", "user", "assistant", "tool"})

    def render_message(self, message: Message, ctx: Any) -> Any:
        if message["role"] == "tool":  # shown as a user turn, so every assistant turn ends on the stop
            message = {"role": "user", "content": f"[{message.get('name', 'tool')}] {message['content']}"}
        calls = message.get("tool_calls") or []
        if calls:
            text = (message.get("content") or "") + "".join(
                "<tool>" + json.dumps({"name": c.function.name, "arguments": json.loads(c.function.arguments)})
                + "</tool>"
                for c in calls
            )
            message = {"role": message["role"], "content": text}
        return super().render_message(message, ctx)

    def get_stop_sequences(self) -> list[str]:
        return [*super().get_stop_sequences(), "</tool>"]  # a call ends the turn: the tool answers next

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        message, termination = super().parse_response(response)
        text = str(message["content"])
        if text.rstrip().endswith("</tool>"):
            termination = ParseTermination.STOP_SEQUENCE
        calls, unparsed = [], []
        for raw in re.findall(r"<tool>(.*?)</tool>", text, flags=re.S):
            try:
                obj = json.loads(raw)
                calls.append(ToolCall(function=ToolCall.FunctionBody(
                    name=obj["name"], arguments=json.dumps(obj["arguments"])), id=f"call_{len(calls)}"))
            except (ValueError, KeyError, TypeError) as e:
                unparsed.append(UnparsedToolCall(raw_text=raw, error=f"bad tool call: {e}"))
        out: Message = {"role": "assistant", "content": re.sub(r"<tool>.*?</tool>", "", text, flags=re.S)}
        if calls:
            out["tool_calls"] = calls
        if unparsed:
            out["unparsed_tool_calls"] = unparsed
        return out, termination


@tool
def add(a: Annotated[int, "first addend"], b: Annotated[int, "second addend"]) -> ToolResult:
    """Add two integers."""
    CALLS.append(f"{a}+{b}")
    return simple_tool_result(str(a + b))


def _prompt(a: int, b: int) -> list[Message]:
    return [{"role": "user", "content": f"add {a} {b}"}]


def _demo(a: int, b: int) -> list[Message]:
    call = ToolCall(function=ToolCall.FunctionBody(name="add", arguments=json.dumps({"a": a, "b": b})), id="call_0")
    return [*_prompt(a, b), {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "content": str(a + b), "tool_call_id": "call_0", "name": "add"},
            {"role": "assistant", "content": str(a + b)}]


class CalcGroup(EnvGroupBuilder):
    def __init__(self, a: int, b: int, renderer: ToolColonRenderer, group_size: int) -> None:
        self.a, self.b, self.renderer, self.group_size = a, b, renderer, group_size

    async def make_envs(self) -> Sequence[Env]:
        answer = str(self.a + self.b)

        async def reward(messages: list[Message]) -> tuple[float, dict[str, float]]:
            used_tool = any(m["role"] == "tool" for m in messages)
            final = str(messages[-1].get("content", "")).strip() if messages[-1]["role"] == "assistant" else ""
            return float(final == answer) + 0.5 * used_tool, {"used_tool": float(used_tool)}

        return [build_agent_tool_env(self.renderer, [add], _prompt(self.a, self.b), reward, max_turns=3)
                for _ in range(self.group_size)]

    async def compute_group_rewards(self, trajectory_groups: Any, env_group: Any) -> list[tuple[float, dict[str, Any]]]:
        return [(0.0, {}) for _ in env_group]

    def logging_tags(self) -> list[str]:
        return ["calc"]


class CalcDataset(RLDataset):
    def __init__(self, renderer: ToolColonRenderer) -> None:
        self.renderer = renderer

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        return [CalcGroup(a, b, self.renderer, 4) for a, b in PROBLEMS]

    def __len__(self) -> int:
        return 2


@configclass
class CalcDatasetBuilder(RLDatasetBuilder):
    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        from tinkerlite.tokenizer_utils import get_tokenizer

        return CalcDataset(ToolColonRenderer(get_tokenizer("tinkerlite/tiny-chat"))), None


def test_calculator_agent_rl_run(tmp_path: Path) -> None:
    CALLS.clear()
    with tinkerlite.local.serve(api_key=KEY) as url:
        service = tinkerlite.ServiceClient(base_url=url, api_key=KEY)
        trainer = service.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=8).result()
        renderer = ToolColonRenderer(trainer.get_tokenizer())
        data = [conversation_to_datum(_demo(a, b), renderer, max_length=256, train_on_what=ALL) for a, b in PROBLEMS]
        for _ in range(60):  # teach the random model the call format
            trainer.forward_backward(data, loss_fn="cross_entropy")
            trainer.optim_step(AdamParams(learning_rate=2e-2)).result()
        warm = trainer.save_state("warm").result().path
        service.close()

        config = Config(
            log_path=str(tmp_path / "rl"), model_name="tinkerlite/tiny-chat", recipe_name="rl",
            dataset_builder=CalcDatasetBuilder(), load_checkpoint_path=warm, learning_rate=1e-3,
            max_tokens=96, lora_rank=8, base_url=url, api_key=KEY, eval_every=0, save_every=0,
            show_progress=False, temperature=0.3, seed=0,
        )
        summary = run(config)
    rows = [json.loads(line) for line in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "env/all/reward/total" in r]
    assert len(steps) == 2 and summary
    assert CALLS, "the sampled tool calls never reached the tool"
    assert any(r.get("env/all/used_tool", 0) > 0 for r in steps)
    assert all(r["tokens/sampled"] > 0 and r["tokens/trained"] > 0 for r in steps)
    # multi-turn: trajectories with a tool result have more than one transition
    assert any(r["env/all/turns_per_episode"] > 1 for r in steps)  # tool result, then the answer turn
    assert any(r["env/all/reward/total"] > 1.0 for r in steps)  # graded: tool used and the answer right
