"""``tinker.types.severity`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["Severity"]


Severity: TypeAlias = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
