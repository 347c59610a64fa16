"""``tinker.types.save_weights_external_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._record import JsonRecord

__all__ = ["SaveWeightsExternalResponse", "SaveWeightsExternalResponseInternal"]


@dataclass(kw_only=True)
class SaveWeightsExternalResponseInternal(JsonRecord):
    path: str | None = None
    size_bytes: int | None = None
    type: Literal["save_weights_external"] | None = None


@dataclass(kw_only=True)
class SaveWeightsExternalResponse(JsonRecord):
    path: str
    type: Literal["save_weights_external"] | None = None
