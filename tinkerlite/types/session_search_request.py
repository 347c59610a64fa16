"""``tinker.types.session_search_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field

from ._lazy import dataclass
from ._wire_record import WireRecord
from .search_owner import OwnSearchOwner, SearchOwner
from .session_search_cursor import SessionSearchCursor
from .session_status_query import SessionStatusQuery

__all__ = ["SessionSearchRequest"]


@dataclass(kw_only=True)
class SessionSearchRequest(WireRecord):
    session_id: str | None = None
    project_ids: list[str] | None = None
    user_metadata: dict[str, str] = field(default_factory=dict)
    display_name: str | None = None
    owner: SearchOwner = field(default_factory=OwnSearchOwner)
    statuses: list[SessionStatusQuery] | None = None
    limit: int = 50
    cursor: SessionSearchCursor | None = None
    _nested = {"owner": SearchOwner, "cursor": SessionSearchCursor}  # noqa: RUF012
    _nested_list = {"statuses": SessionStatusQuery}  # noqa: RUF012
    _bounds = {"display_name": {"min_length": 1}, "statuses": {"min_length": 1}, "limit": {"ge": 1, "le": 200}}  # noqa: RUF012
