"""``tinker.types.image_chunk`` of the official SDK, at the same import path."""

from __future__ import annotations

from .model_input import ImageChunk as ImageChunk

__all__ = ["ImageChunk"]
