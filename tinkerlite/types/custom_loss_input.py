"""``tinker.types.custom_loss_input`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CustomLossInput", "CustomLossInputRank"]

CustomLossInputRank: TypeAlias = Literal[0, 1, 2]


@dataclass(kw_only=True)
class CustomLossInput(WireRecord):
    name: str
    rank: CustomLossInputRank
