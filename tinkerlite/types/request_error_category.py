"""``tinker.types.request_error_category`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import RequestErrorCategory as RequestErrorCategory

__all__ = ["RequestErrorCategory"]
