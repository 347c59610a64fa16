"""Core tool-use types (the cookbook's ``tool_use.types``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..renderers.base import Message, ToolSpec

__all__ = ["Tool", "ToolInput", "ToolResult", "ToolSpec"]


@dataclass
class ToolInput:
    """Input to a tool invocation."""

    arguments: dict[str, Any]
    call_id: str | None = None


@dataclass
class ToolResult:
    """Result of a tool invocation: the messages to append, whether to stop, metrics and metadata."""

    messages: list[Message]
    should_stop: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Tool(Protocol):
    """What an agent can call: a name, a description, a JSON Schema for its parameters, and ``run``."""

    @property
    def name(self) -> str:
        """Tool name shown to the model."""
        ...

    @property
    def description(self) -> str:
        """Tool description shown to the model."""
        ...

    @property
    def parameters_schema(self) -> dict[str, Any]:
        """JSON Schema of the parameters, shown to the model."""
        ...

    async def run(self, input: ToolInput) -> ToolResult:
        """Execute with validated arguments."""
        ...

    def to_spec(self) -> ToolSpec:
        """The :class:`ToolSpec` renderers put in the prompt."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters_schema}
