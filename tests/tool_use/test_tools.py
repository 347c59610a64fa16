"""tool_use.tools against the cookbook 0.6.1: the parameter schema and validation its pydantic model gives.

The goldens come from the cookbook's own ``tool_use/tools.py`` run in the official SDK venv (which has
pydantic); the renderer types it imports are stubbed there, they play no part in schema or validation.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import textwrap
from typing import Annotated, Any, Literal

import pytest

from tests.official_env import official_sdk_python, official_source
from tinkerlite.renderers.base import ToolCall
from tinkerlite.tool_use import FunctionTool, ToolInput, ToolResult, handle_tool_call, simple_tool_result, tool

TOOL_DEFS = '''
from typing import Annotated, Any, Literal

def search(query: Annotated[str, "The search query"], max_results: int = 5, exact: bool = False) -> ToolResult:
    """Search the web."""
    return simple_tool_result(json.dumps([query, max_results, exact]))

def mix(xs: list[int], tags: dict[str, float] | None = None, mode: Literal["a", "b"] = "a",
        pair: tuple[int, str] = (1, "x"), anything: Any = None, ratio: float = 0.5,
        names: list[str] = [], label: str | None = None) -> ToolResult:
    return simple_tool_result(json.dumps([xs, tags, mode, list(pair), anything, ratio, names, label]))
'''

CASES: list[tuple[str, dict[str, Any]]] = [
    ("search", {"query": "tinker"}),
    ("search", {"query": "tinker", "max_results": "7", "exact": "yes", "extra": 1}),
    ("search", {"query": "tinker", "max_results": 2.0, "exact": 1}),
    ("search", {"query": 3}),
    ("search", {}),
    ("search", {"query": "q", "max_results": 2.5}),
    ("search", {"query": "q", "exact": "maybe"}),
    ("mix", {"xs": [1, "2", 3.0]}),
    ("mix", {"xs": [1], "tags": {"a": 1, "b": "2.5"}, "mode": "b", "pair": [3, "y"], "anything": {"k": [1]}}),
    ("mix", {"xs": [1], "mode": "c"}),
    ("mix", {"xs": "nope"}),
    ("mix", {"xs": [], "ratio": "0.25", "names": ["n"], "label": None}),
]


def _official_goldens() -> dict[str, Any]:
    src = official_source("cookbook") / "tinker_cookbook" / "tool_use"
    script = textwrap.dedent(
        """
        import asyncio, json, sys, types
        from dataclasses import dataclass, field
        rb = types.ModuleType("tinker_cookbook.renderers.base")
        rb.ContentPart = rb.ToolCall = rb.ToolSpec = rb.Message = dict
        tt = types.ModuleType("tinker_cookbook.tool_use.types")
        @dataclass
        class ToolInput:
            arguments: dict
            call_id: str | None = None
        @dataclass
        class ToolResult:
            messages: list
            should_stop: bool = False
            metrics: dict = field(default_factory=dict)
            metadata: dict = field(default_factory=dict)
        tt.ToolInput, tt.ToolResult, tt.Tool = ToolInput, ToolResult, object
        for name in ["tinker_cookbook", "tinker_cookbook.renderers", "tinker_cookbook.tool_use"]:
            sys.modules[name] = types.ModuleType(name)
        sys.modules["tinker_cookbook.renderers.base"] = rb
        sys.modules["tinker_cookbook.tool_use.types"] = tt
        ns = {"__name__": "official_tools"}
        sys.modules["official_tools"] = types.ModuleType("official_tools")
        exec(open(sys.argv[1]).read(), ns)
        sys.modules["official_tools"].__dict__.update(ns)
        exec(sys.argv[2], ns)
        cases = json.loads(sys.argv[3])
        out = {"schemas": {n: ns["FunctionTool"](ns[n]).parameters_schema for n in ["search", "mix"]}, "runs": []}
        for name, args in cases:
            res = asyncio.run(ns["FunctionTool"](ns[name]).run(ToolInput(arguments=args, call_id="c1")))
            out["runs"].append({"messages": res.messages, "metadata": res.metadata})
        print(json.dumps(out))
        """
    )
    proc = subprocess.run(
        [str(official_sdk_python()), "-c", script, str(src / "tools.py"), TOOL_DEFS, json.dumps(CASES)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    try:
        return _official_goldens()
    except (OSError, subprocess.CalledProcessError) as e:  # the venv needs the registry once
        pytest.skip(f"official venv unavailable: {e}")


def _ours() -> dict[str, FunctionTool]:
    ns: dict[str, Any] = {"json": json, "ToolResult": ToolResult, "simple_tool_result": simple_tool_result}
    exec(TOOL_DEFS, ns)
    return {n: FunctionTool(ns[n]) for n in ["search", "mix"]}


@pytest.mark.network_registry
def test_schemas_are_the_cookbook_pydantic_schemas(golden: dict[str, Any]) -> None:
    for name, t in _ours().items():
        assert json.dumps(t.parameters_schema) == json.dumps(golden["schemas"][name]), name  # key order too


@pytest.mark.network_registry
def test_validation_accepts_coerces_and_refuses_as_the_cookbook(golden: dict[str, Any]) -> None:
    tools = _ours()
    for (name, args), want in zip(CASES, golden["runs"], strict=True):
        got = asyncio.run(tools[name].run(ToolInput(arguments=args, call_id="c1")))
        assert got.metadata == want["metadata"], (name, args)
        if not want["metadata"]:
            assert got.messages == want["messages"], (name, args)
        else:
            assert got.messages[0]["content"].startswith('{"error": "Parameter validation failed: ')


def test_methods_bind_and_errors_never_raise() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        @tool
        async def bump(self, by: Annotated[int, "step"] = 1) -> ToolResult:
            """Increase the counter."""
            self.n += by
            return simple_tool_result(str(self.n), metrics={"n": self.n})

        @tool
        def broken(self) -> ToolResult:
            """Always fails."""
            raise RuntimeError("boom")

        @tool
        def wrong(self) -> str:
            """Returns the wrong type."""
            return "x"

    c = Counter()
    tools = {"bump": c.bump, "broken": c.broken, "wrong": c.wrong}
    res = asyncio.run(tools["bump"].run(ToolInput({"by": 2}, call_id="id7")))
    assert c.n == 2 and res.messages == [{"role": "tool", "content": "2", "tool_call_id": "id7", "name": "bump"}]
    assert c.bump.to_spec()["description"] == "Increase the counter."

    def call(name: str, arguments: str) -> ToolResult:
        return asyncio.run(handle_tool_call(tools, ToolCall(function=ToolCall.FunctionBody(name, arguments), id="i")))

    assert call("nope", "{}").metadata == {"error": "tool_not_found"}
    assert call("bump", "{bad").metadata == {"error": "json_decode_failed"}
    assert call("broken", "{}").metadata == {"error": "execution_failed"}
    assert "must return ToolResult" in call("wrong", "{}").messages[0]["content"]
    assert json.loads(call("bump", '{"by": "x"}').messages[0]["content"])["error"].startswith(
        "Parameter validation failed: 1 validation error for bump_params"
    )


def test_literal_and_optional_schema_shapes() -> None:
    @tool
    def f(mode: Literal["x"], n: int | None = None) -> ToolResult:
        return simple_tool_result("")

    props = f.parameters_schema["properties"]
    assert props["mode"] == {"const": "x", "title": "Mode", "type": "string"}
    assert props["n"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "title": "N"}
