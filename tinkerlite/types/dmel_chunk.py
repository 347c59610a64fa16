"""``tinker.types.dmel_chunk`` of the official SDK, at the same import path."""

from __future__ import annotations

from .model_input import DmelChunk as DmelChunk

__all__ = ["DmelChunk"]
