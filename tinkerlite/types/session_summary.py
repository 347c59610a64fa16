"""``tinker.types.session_summary`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord
from .session_status import SessionStatus

__all__ = ["SessionSummary"]


@dataclass(kw_only=True)
class SessionSummary(WireRecord):
    session_id: str
    created_at: datetime
    owner: str
    project_id: str
    status: SessionStatus | None = None
    checkpoints_count: int
    display_name: str | None = None
    user_metadata: dict[str, str] | None = None
    checkpoint_storage_bytes: int | None = None
    _nested = {"status": SessionStatus}  # noqa: RUF012
    _datetimes = ("created_at",)
