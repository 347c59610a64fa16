"""``tinker.types.request_id`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["RequestID"]


RequestID: TypeAlias = str
