"""``tinker.types.session_end_event`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord
from .event_type import EventType
from .severity import Severity

__all__ = ["SessionEndEvent"]


@dataclass(kw_only=True)
class SessionEndEvent(WireRecord):
    duration: str
    event: EventType
    event_id: str
    event_session_index: int
    severity: Severity
    timestamp: datetime
    _datetimes = ("timestamp",)
