"""``tinker.types.session_search_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .session_search_cursor import SessionSearchCursor
from .session_summary import SessionSummary

__all__ = ["SessionSearchResponse"]


@dataclass(kw_only=True)
class SessionSearchResponse(WireRecord):
    sessions: list[SessionSummary]
    next_cursor: SessionSearchCursor | None = None
    _nested = {"next_cursor": SessionSearchCursor}  # noqa: RUF012
    _nested_list = {"sessions": SessionSummary}  # noqa: RUF012
