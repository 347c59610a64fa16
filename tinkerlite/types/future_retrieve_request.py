"""``tinker.types.future_retrieve_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .request_id import RequestID

__all__ = ["FutureRetrieveRequest"]


@dataclass(kw_only=True)
class FutureRetrieveRequest(WireRecord):
    request_id: RequestID
    allow_metadata_only: bool = False
