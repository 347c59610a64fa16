"""``tinker.types.join_sampling_session_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._record import JsonRecord

__all__ = ["JoinSamplingSessionResponse"]


@dataclass(kw_only=True)
class JoinSamplingSessionResponse(JsonRecord):
    type: Literal["join_sampling_session"] = "join_sampling_session"
    client_counter: int
