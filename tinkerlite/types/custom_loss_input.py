"""``tinker.types.custom_loss_input`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ._record import JsonRecord

__all__ = ["CustomLossInput", "CustomLossInputRank"]

CustomLossInputRank: TypeAlias = Literal[0, 1, 2]


@dataclass(kw_only=True)
class CustomLossInput(JsonRecord):
    name: str
    rank: CustomLossInputRank

