"""``tinker.types.session_start_event`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord
from .event_type import EventType
from .severity import Severity

__all__ = ["SessionStartEvent"]


@dataclass(kw_only=True)
class SessionStartEvent(WireRecord):
    event: EventType
    event_id: str
    event_session_index: int
    severity: Severity
    timestamp: datetime
    _datetimes = ("timestamp",)
