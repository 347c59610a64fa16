"""``tinker.types.futures_retrieve_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["FuturesRetrieveRequest", "SamplingSessionFuturesTarget"]


@dataclass(kw_only=True)
class SamplingSessionFuturesTarget(WireRecord):
    type: Literal["sampling_session"] = "sampling_session"
    sampling_session_id: str
    cloned_sampler_id: int = 0


@dataclass(kw_only=True)
class FuturesRetrieveRequest(WireRecord):
    target: SamplingSessionFuturesTarget
    prev_cursor: int = 0
    timeout: float | None = None
    retrieved_request_ids: list[str] = field(default_factory=list)
    _nested = {"target": SamplingSessionFuturesTarget}  # noqa: RUF012
