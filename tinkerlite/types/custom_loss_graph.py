"""``tinker.types.custom_loss_graph`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CustomLossGraph", "CustomLossNode", "CustomLossNodeOp"]


CustomLossNodeOp: TypeAlias = Literal[
    "placeholder", "get_attr", "call_function", "call_method", "call_module", "output"
]


@dataclass(kw_only=True)
class CustomLossNode(WireRecord):
    op: CustomLossNodeOp
    name: str
    target: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class CustomLossGraph(WireRecord):
    format: Literal[1] = 1
    nodes: list[CustomLossNode]
    _nested_list = {"nodes": CustomLossNode}  # noqa: RUF012
