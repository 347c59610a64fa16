"""``tinker.types.stop_reason`` of the official SDK, at the same import path."""

from __future__ import annotations

from .params import StopReason as StopReason

__all__ = ["StopReason"]
