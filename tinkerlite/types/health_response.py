"""``tinker.types.health_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import HealthResponse as HealthResponse

__all__ = ["HealthResponse"]
