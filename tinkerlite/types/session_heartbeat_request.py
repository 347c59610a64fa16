"""``tinker.types.session_heartbeat_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["SessionHeartbeatRequest"]


@dataclass(kw_only=True)
class SessionHeartbeatRequest(WireRecord):
    session_id: str
    type: Literal["session_heartbeat"] = "session_heartbeat"
