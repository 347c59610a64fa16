"""``tinker.types.save_weights_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID

__all__ = ["SaveWeightsRequest"]


@dataclass(kw_only=True)
class SaveWeightsRequest(WireRecord):
    model_id: ModelID
    path: str | None = None
    seq_id: int | None = None
    ttl_seconds: int | None = None
    overwrite: bool = False
    user_metadata: dict[str, str] | None = None
    type: Literal["save_weights"] = "save_weights"
