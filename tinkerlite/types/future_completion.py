"""``tinker.types.future_completion`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord
from .request_id import RequestID

__all__ = ["FutureCompletion", "FutureFailed", "FutureFinished"]


@dataclass(kw_only=True)
class FutureFinished(WireRecord):
    state: Literal["finished"] = "finished"
    request_id: RequestID
    response_payload_uncompressed_size: int | None = None


@dataclass(kw_only=True)
class FutureFailed(WireRecord):
    state: Literal["failed"] = "failed"
    request_id: RequestID


FutureCompletion: TypeAlias = FutureFinished | FutureFailed
