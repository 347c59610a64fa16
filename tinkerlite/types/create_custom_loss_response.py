"""``tinker.types.create_custom_loss_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CreateCustomLossResponse"]


@dataclass(kw_only=True)
class CreateCustomLossResponse(WireRecord):
    loss_id: str
    type: Literal["create_custom_loss"] = "create_custom_loss"
