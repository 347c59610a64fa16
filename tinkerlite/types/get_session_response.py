"""``tinker.types.get_session_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import GetSessionResponse as GetSessionResponse

__all__ = ["GetSessionResponse"]
