"""``tinker.types.cursor`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import Cursor as Cursor

__all__ = ["Cursor"]
