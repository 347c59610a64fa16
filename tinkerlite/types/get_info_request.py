"""``tinker.types.get_info_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID

__all__ = ["GetInfoRequest"]


@dataclass(kw_only=True)
class GetInfoRequest(WireRecord):
    model_id: ModelID
    type: Literal["get_info"] = "get_info"
