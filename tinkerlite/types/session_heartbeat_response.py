"""``tinker.types.session_heartbeat_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["SessionHeartbeatResponse"]


@dataclass(kw_only=True)
class SessionHeartbeatResponse(WireRecord):
    type: Literal["session_heartbeat"] = "session_heartbeat"
