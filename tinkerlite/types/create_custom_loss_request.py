"""``tinker.types.create_custom_loss_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .custom_loss_graph import CustomLossGraph
from .custom_loss_input import CustomLossInput

__all__ = ["CreateCustomLossRequest"]


@dataclass(kw_only=True)
class CreateCustomLossRequest(WireRecord):
    session_id: str
    custom_loss_seq_id: int
    name: str
    inputs: list[CustomLossInput]
    graph: CustomLossGraph
    type: Literal["create_custom_loss"] = "create_custom_loss"
    _nested = {"graph": CustomLossGraph}  # noqa: RUF012
    _nested_list = {"inputs": CustomLossInput}  # noqa: RUF012
