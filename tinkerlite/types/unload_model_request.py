"""``tinker.types.unload_model_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID

__all__ = ["UnloadModelRequest"]


@dataclass(kw_only=True)
class UnloadModelRequest(WireRecord):
    model_id: ModelID
    type: Literal["unload_model"] = "unload_model"
