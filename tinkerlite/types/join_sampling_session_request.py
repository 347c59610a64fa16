"""``tinker.types.join_sampling_session_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["JoinSamplingSessionRequest"]


@dataclass(kw_only=True)
class JoinSamplingSessionRequest(WireRecord):
    sampling_session_id: str
    type: Literal["join_sampling_session"] = "join_sampling_session"
