"""``tinker.types.event_type`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["EventType"]


EventType: TypeAlias = Literal["SESSION_START", "SESSION_END", "UNHANDLED_EXCEPTION", "GENERIC_EVENT"]
