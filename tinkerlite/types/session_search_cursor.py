"""``tinker.types.session_search_cursor`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["SessionSearchCursor"]


@dataclass(kw_only=True)
class SessionSearchCursor(WireRecord):
    last_created_at: datetime
    last_session_id: str
    _datetimes = ("last_created_at",)
