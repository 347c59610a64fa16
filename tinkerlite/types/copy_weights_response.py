"""``tinker.types.copy_weights_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CopyWeightsResponse"]


@dataclass(kw_only=True)
class CopyWeightsResponse(WireRecord):
    tinker_path: str
