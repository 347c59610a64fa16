"""``tinker.types.audit_log_entry`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["AuditLogEntry"]


@dataclass(kw_only=True)
class AuditLogEntry(WireRecord):
    timestamp: datetime
    event: str
    event_details: dict[str, object] = field(default_factory=dict)
    model_id: str | None = None
    tinker_path: str | None = None
    purpose: str | None = None
    _datetimes = ("timestamp",)
