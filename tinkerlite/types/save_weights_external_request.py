"""``tinker.types.save_weights_external_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID

__all__ = ["SaveWeightsExternalRequest"]


@dataclass(kw_only=True)
class SaveWeightsExternalRequest(WireRecord):
    model_id: ModelID
    path: str
    seq_id: int | None = None
    ttl_seconds: int | None = None
    age_encryption_recipients: list[str] | None = None
    type: Literal["save_weights_external"] = "save_weights_external"
