"""tinkerlite.third_party.openai_compat: the cookbook's own openai_compat_test (imports rewritten) passes,
plus round trips the cookbook's test does not pin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.third_party.cookbook_tests import run_cookbook_test
from tinkerlite.renderers.base import Message, ToolCall
from tinkerlite.third_party.openai_compat import (
    openai_messages_to_tinker,
    openai_tools_to_tinker,
    tinker_messages_to_openai,
    tool_specs_to_openai_tools,
)

#: cookbook test id -> why it does not pass against tinkerlite (empty: all pass).
EXPECTED_FAILURES: dict[str, str] = {}


@pytest.mark.network_registry
def test_cookbook_openai_compat_test(tmp_path: Path) -> None:
    outcomes = run_cookbook_test("third_party/openai_compat_test.py", tmp_path)
    bad = {k: v for k, v in outcomes.items() if v != "passed"}
    assert bad == dict.fromkeys(EXPECTED_FAILURES, "failed"), bad
    assert len(outcomes) > 20, outcomes


def test_round_trip_with_tools_reasoning_and_calls() -> None:
    tools = [{"type": "function", "function": {"name": "add", "description": "sum", "parameters": {"type": "object"}}}]
    specs = openai_tools_to_tinker([*tools, {"type": "web_search"}])
    assert specs == [{"name": "add", "description": "sum", "parameters": {"type": "object"}}]
    assert tool_specs_to_openai_tools(specs) == tools
    convo: list[Message] = [
        {"role": "tool_declare", "content": json.dumps(tools)},
        {"role": "user", "content": "1+2?"},
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "easy"}],
            "tool_calls": [ToolCall(function=ToolCall.FunctionBody(name="add", arguments='{"a":1,"b":2}'), id="c1")],
        },
        {"role": "tool", "content": "3", "tool_call_id": "c1", "name": "add"},
    ]
    req = tinker_messages_to_openai(convo)
    assert req["tools"] == tools
    assert req["messages"][1] == {
        "role": "assistant",
        "reasoning_content": "easy",
        "content": None,
        "tool_calls": [{"type": "function", "id": "c1", "function": {"name": "add", "arguments": '{"a":1,"b":2}'}}],
    }
    back = openai_messages_to_tinker(req["messages"])
    assert back[1]["content"] == [{"type": "thinking", "thinking": "easy"}]
    assert back[1]["tool_calls"] == convo[2]["tool_calls"]
    assert back[2] == convo[3]


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="reasoning_content is only valid on assistant"):
        openai_messages_to_tinker([{"role": "user", "content": "x", "reasoning_content": "no"}])
    with pytest.raises(ValueError, match="JSON list of OpenAI tools"):
        tinker_messages_to_openai([{"role": "tool_declare", "content": "type add = () => any"}])
    with pytest.raises(ValueError, match="declared twice"):
        a = json.dumps([{"type": "function", "function": {"name": "f", "parameters": {}}}])
        b = json.dumps([{"type": "function", "function": {"name": "f", "parameters": {"x": 1}}}])
        tinker_messages_to_openai([{"role": "tool_declare", "content": a}, {"role": "tool_declare", "content": b}])
    with pytest.raises(ValueError, match="unsupported content part type"):
        tinker_messages_to_openai([{"role": "user", "content": [{"type": "video", "video": "x"}]}])  # type: ignore[list-item]
