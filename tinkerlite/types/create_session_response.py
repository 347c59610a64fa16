"""``tinker.types.create_session_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import CreateSessionResponse as CreateSessionResponse

__all__ = ["CreateSessionResponse"]
