"""``tinker.types.future_retrieve_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass

from ._record import JsonRecord
from .request_id import RequestID

__all__ = ["FutureRetrieveRequest"]


@dataclass(kw_only=True)
class FutureRetrieveRequest(JsonRecord):
    request_id: RequestID
    allow_metadata_only: bool = False
