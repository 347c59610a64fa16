"""Tool calls (``ToolCall``, ``UnparsedToolCall``), tool declarations (``ToolSpec``) and their helpers.

Arguments stay a JSON string, as in OpenAI's API and the cookbook; callers may also pass OpenAI-style
dicts, which are converted on the way in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from tinkerlite.renderers.errors import RendererError, _where

if TYPE_CHECKING:
    from tinkerlite.renderers.content import Message

__all__ = [
    "FunctionBody",
    "StrictBase",
    "ToolCall",
    "ToolSpec",
    "UnparsedToolCall",
    "as_tool_call",
    "attach_tool_calls",
    "tool_call_arguments",
    "tool_call_from_text",
    "tool_calls_of",
]


class StrictBase:
    """The cookbook's immutable, extra-fields-forbidding base (pydantic there; frozen dataclasses here).

    Subclass it with ``@dataclass(frozen=True)``: unknown keywords are a ``TypeError`` and fields cannot
    be reassigned, as with the cookbook's ``ConfigDict(frozen=True, extra="forbid")``.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class FunctionBody(StrictBase):
    """Name and JSON-string arguments of a tool call (arguments stay a string, as in OpenAI's API)."""

    name: str
    arguments: str


@dataclass(frozen=True)
class ToolCall(StrictBase):
    """A structured tool invocation; ``ToolCall.FunctionBody`` is kept for cookbook-compatible code."""

    function: FunctionBody
    id: str | None = None
    type: Literal["function"] = "function"

    FunctionBody = FunctionBody

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """The OpenAI dict form (same shape pydantic's ``model_dump`` gives in the cookbook)."""
        return {
            "type": self.type,
            "id": self.id,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }

    @classmethod
    def from_openai(cls, obj: Mapping[str, Any], *, where: str = "tool_call") -> ToolCall:
        """Build from ``{"type": "function", "id": ..., "function": {"name", "arguments"}}``.

        ``arguments`` may be a JSON string or an already-decoded object; a dict is re-encoded with
        ``json.dumps`` (default separators), which is what the cookbook stores after parsing.
        """
        fn = obj.get("function")
        if not isinstance(fn, Mapping):
            raise RendererError("a tool call needs a 'function' object", field=f"{where}.function")
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise RendererError("tool call function name must be a non-empty string", field=f"{where}.name")
        args = fn.get("arguments", "{}")
        if isinstance(args, Mapping):
            args = json.dumps(dict(args))
        if not isinstance(args, str):
            raise RendererError("tool call arguments must be a JSON string or object", field=f"{where}.arguments")
        tc_type = obj.get("type", "function")
        if tc_type != "function":
            raise RendererError(f"unsupported tool call type {tc_type!r}", field=f"{where}.type")
        tc_id = obj.get("id")
        if tc_id is not None and not isinstance(tc_id, str):
            raise RendererError("tool call id must be a string or None", field=f"{where}.id")
        return cls(function=FunctionBody(name=name, arguments=args), id=tc_id)


@dataclass(frozen=True)
class UnparsedToolCall(StrictBase):
    """Model output that looked like a tool call but did not parse; kept for debugging and retries."""

    raw_text: str
    error: str

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"raw_text": self.raw_text, "error": self.error}


class ToolSpec(TypedDict):
    """A tool declaration in OpenAI function-calling form."""

    name: str
    description: str
    parameters: dict[str, Any]


def as_tool_call(obj: Any, *, where: str = "tool_call") -> ToolCall:
    """A ``ToolCall`` from either a ``ToolCall`` or an OpenAI-style dict."""
    if isinstance(obj, ToolCall):
        return obj
    if isinstance(obj, Mapping):
        return ToolCall.from_openai(obj, where=where)
    raise RendererError(f"expected a ToolCall or an OpenAI tool-call dict, got {type(obj).__name__}", field=where)


def tool_calls_of(message: Message, idx: int | None = None) -> list[ToolCall]:
    """The message's tool calls as ``ToolCall`` objects (empty when absent)."""
    calls = message.get("tool_calls") or []
    return [as_tool_call(tc, where=_where(idx, f"tool_calls[{i}]")) for i, tc in enumerate(calls)]


def tool_call_arguments(tool_call: ToolCall, *, where: str = "tool_call") -> Any:
    """Decoded arguments; malformed JSON is a RendererError naming the call."""
    try:
        return json.loads(tool_call.function.arguments)
    except json.JSONDecodeError as e:
        raise RendererError(
            f"tool call {tool_call.function.name!r} has malformed JSON arguments: {e}", field=f"{where}.arguments"
        ) from None


def tool_call_from_text(
    name: str, arguments: str, raw_text: str, call_id: str | None = None
) -> ToolCall | UnparsedToolCall:
    """A parsed call when ``arguments`` is valid JSON (kept verbatim), else an UnparsedToolCall saying why."""
    try:
        json.loads(arguments)
    except json.JSONDecodeError as e:
        return UnparsedToolCall(raw_text=raw_text, error=f"Invalid JSON: {e}")
    return ToolCall(function=FunctionBody(name=name, arguments=arguments), id=call_id)


def attach_tool_calls(message: Message, results: Sequence[ToolCall | UnparsedToolCall]) -> None:
    """Put parsed calls in ``tool_calls`` and failures in ``unparsed_tool_calls`` (keys only when non-empty)."""
    calls = [c for c in results if isinstance(c, ToolCall)]
    unparsed = [c for c in results if isinstance(c, UnparsedToolCall)]
    if calls:
        message["tool_calls"] = calls
    if unparsed:
        message["unparsed_tool_calls"] = [*message.get("unparsed_tool_calls", []), *unparsed]
