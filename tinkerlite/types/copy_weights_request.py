"""``tinker.types.copy_weights_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CopyWeightsRequest"]


@dataclass(kw_only=True)
class CopyWeightsRequest(WireRecord):
    session_id: str | None = None
    model_seq_id: int | None = None
    destination_project_id: str | None = None
    source_path: str
    ttl_seconds: int | None = None
    weights_access_token: str | None = None
