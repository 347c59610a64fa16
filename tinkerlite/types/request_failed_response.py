"""``tinker.types.request_failed_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import RequestFailedResponse as RequestFailedResponse

__all__ = ["RequestFailedResponse"]
