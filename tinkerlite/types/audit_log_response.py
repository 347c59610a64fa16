"""``tinker.types.audit_log_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .audit_log_entry import AuditLogEntry

__all__ = ["AuditLogResponse"]


@dataclass(kw_only=True)
class AuditLogResponse(WireRecord):
    entries: list[AuditLogEntry]
    _nested_list = {"entries": AuditLogEntry}  # noqa: RUF012
