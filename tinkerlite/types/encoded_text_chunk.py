"""``tinker.types.encoded_text_chunk`` of the official SDK, at the same import path."""

from __future__ import annotations

from .model_input import EncodedTextChunk as EncodedTextChunk

__all__ = ["EncodedTextChunk"]
