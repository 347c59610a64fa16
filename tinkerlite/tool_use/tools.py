"""Tools for LLM agents (the cookbook's ``tool_use.tools``): the ``@tool`` decorator, result helpers and
``handle_tool_call``. Parameters come from the function signature (``Annotated[T, "description"]``); the
schema and validation match the cookbook's pydantic model without needing pydantic (see ``_schema``)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from ..renderers.base import ContentPart, ToolCall, ToolSpec
from ._schema import object_schema, params_of, validate_arguments
from .types import Tool, ToolInput, ToolResult

__all__ = ["FunctionTool", "error_tool_result", "handle_tool_call", "simple_tool_result", "tool"]


def simple_tool_result(
    content: str | list[ContentPart],
    *,
    call_id: str = "",
    name: str = "",
    should_stop: bool = False,
    metrics: dict[str, float] | None = None,
    metadata: dict[str, Any] | None = None,
) -> ToolResult:
    """A :class:`ToolResult` holding one ``tool`` message with ``content`` (text or content parts)."""
    return ToolResult(
        messages=[{"role": "tool", "content": content, "tool_call_id": call_id, "name": name}],
        should_stop=should_stop,
        metrics=metrics or {},
        metadata=metadata or {},
    )


def error_tool_result(
    error_msg: str,
    *,
    call_id: str = "",
    name: str = "",
    error_type: str = "execution_error",
    should_stop: bool = False,
) -> ToolResult:
    """A ``tool`` message ``{"error": error_msg}`` with ``metadata["error"] = error_type``."""
    return ToolResult(
        messages=[
            {"role": "tool", "content": json.dumps({"error": error_msg}), "tool_call_id": call_id, "name": name}
        ],
        should_stop=should_stop,
        metrics={},
        metadata={"error": error_type},
    )


class FunctionTool:
    """A tool made from a function or method by ``@tool`` (implements the :class:`Tool` protocol)."""

    def __init__(self, fn: Callable[..., Any]):
        self._fn = fn
        self._instance: Any = None  # set when accessed through an instance (descriptor)
        self._name = fn.__name__
        self._description = fn.__doc__ or ""
        self._params = params_of(fn)
        self._schema = object_schema(f"{self._name}_params", self._params)

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @property
    def parameters_schema(self) -> dict[str, Any]:
        """JSON Schema of the parameters."""
        copy: dict[str, Any] = json.loads(json.dumps(self._schema))  # a copy the caller may edit
        return copy

    def to_spec(self) -> ToolSpec:
        return {"name": self.name, "description": self.description, "parameters": self.parameters_schema}

    async def run(self, input: ToolInput) -> ToolResult:
        """Validate the arguments and call the function; failures come back as error results, never raise."""
        try:
            kwargs = validate_arguments(f"{self._name}_params", self._params, input.arguments)
        except Exception as e:
            return error_tool_result(
                f"Parameter validation failed: {e}",
                call_id=input.call_id or "",
                name=self.name,
                error_type="validation_failed",
            )
        try:
            args = (self._instance,) if self._instance is not None else ()
            if inspect.iscoroutinefunction(self._fn):
                result = await self._fn(*args, **kwargs)
            else:
                result = self._fn(*args, **kwargs)
            if not isinstance(result, ToolResult):
                raise TypeError(
                    f"Tool function '{self.name}' must return ToolResult, got {type(result).__name__}. "
                    "Use simple_tool_result() helper for simple cases."
                )
            for msg in result.messages:
                if not msg.get("tool_call_id") and input.call_id:
                    msg["tool_call_id"] = input.call_id
                if not msg.get("name"):
                    msg["name"] = self.name
            return result
        except Exception as e:
            return error_tool_result(
                f"Tool execution failed: {e}",
                call_id=input.call_id or "",
                name=self.name,
                error_type="execution_failed",
            )

    def __get__(self, obj: Any, objtype: type | None = None) -> FunctionTool:
        """Bind to the instance when accessed as a method (tools sharing an object's state)."""
        if obj is None:
            return self
        bound = FunctionTool.__new__(FunctionTool)
        bound.__dict__.update(self.__dict__)
        bound._instance = obj
        return bound


def tool(fn: Callable[..., Any]) -> FunctionTool:
    """Make a tool from a function or method that returns a :class:`ToolResult`."""
    return FunctionTool(fn)


async def handle_tool_call(tools: dict[str, Tool], tool_call: ToolCall) -> ToolResult:
    """Run one parsed tool call against ``tools``; unknown tools and bad JSON become error results."""
    tool_name = tool_call.function.name
    tool_call_id = tool_call.id or ""
    if tool_name not in tools:
        return error_tool_result(
            f"Tool '{tool_name}' not found", call_id=tool_call_id, name=tool_name, error_type="tool_not_found"
        )
    try:
        arguments = json.loads(tool_call.function.arguments)
    except json.JSONDecodeError as e:
        return error_tool_result(
            f"Failed to parse tool arguments: {e}",
            call_id=tool_call_id,
            name=tool_name,
            error_type="json_decode_failed",
        )
    return await tools[tool_name].run(ToolInput(arguments=arguments, call_id=tool_call_id))


