"""``tinker.types.save_weights_external_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["SaveWeightsExternalResponse", "SaveWeightsExternalResponseInternal"]


@dataclass(kw_only=True)
class SaveWeightsExternalResponseInternal(WireRecord):
    path: str | None = None
    size_bytes: int | None = None
    type: Literal["save_weights_external"] | None = None


@dataclass(kw_only=True)
class SaveWeightsExternalResponse(WireRecord):
    path: str
    type: Literal["save_weights_external"] | None = None
