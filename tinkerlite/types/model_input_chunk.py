"""``tinker.types.model_input_chunk`` of the official SDK, at the same import path."""

from __future__ import annotations

from .model_input import ModelInputChunk as ModelInputChunk

__all__ = ["ModelInputChunk"]
