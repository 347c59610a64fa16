"""``tinker.types.unhandled_exception_event`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord
from .event_type import EventType
from .severity import Severity

__all__ = ["UnhandledExceptionEvent"]


@dataclass(kw_only=True)
class UnhandledExceptionEvent(WireRecord):
    error_message: str
    error_type: str
    event: EventType
    event_id: str
    event_session_index: int
    severity: Severity
    timestamp: datetime
    traceback: str | None = None
    _datetimes = ("timestamp",)
