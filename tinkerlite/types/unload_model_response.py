"""``tinker.types.unload_model_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID

__all__ = ["UnloadModelResponse"]


@dataclass(kw_only=True)
class UnloadModelResponse(WireRecord):
    model_id: ModelID
    type: Literal["unload_model"] | None = None
