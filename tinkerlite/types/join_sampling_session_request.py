"""``tinker.types.join_sampling_session_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._record import JsonRecord

__all__ = ["JoinSamplingSessionRequest"]


@dataclass(kw_only=True)
class JoinSamplingSessionRequest(JsonRecord):
    sampling_session_id: str
    type: Literal["join_sampling_session"] = "join_sampling_session"
