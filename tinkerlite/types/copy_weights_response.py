"""``tinker.types.copy_weights_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass

from ._record import JsonRecord

__all__ = ["CopyWeightsResponse"]


@dataclass(kw_only=True)
class CopyWeightsResponse(JsonRecord):
    tinker_path: str
