"""``tinker.types.join_sampling_session_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["JoinSamplingSessionResponse"]


@dataclass(kw_only=True)
class JoinSamplingSessionResponse(WireRecord):
    type: Literal["join_sampling_session"] = "join_sampling_session"
    client_counter: int
