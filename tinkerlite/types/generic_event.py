"""``tinker.types.generic_event`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord
from .event_type import EventType
from .severity import Severity

__all__ = ["GenericEvent"]


@dataclass(kw_only=True)
class GenericEvent(WireRecord):
    event: EventType
    event_id: str
    event_name: str
    event_session_index: int
    severity: Severity
    timestamp: datetime
    event_data: dict[str, object] = field(default_factory=dict)
    _datetimes = ("timestamp",)
