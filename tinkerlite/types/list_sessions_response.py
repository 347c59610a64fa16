"""``tinker.types.list_sessions_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import ListSessionsResponse as ListSessionsResponse

__all__ = ["ListSessionsResponse"]
