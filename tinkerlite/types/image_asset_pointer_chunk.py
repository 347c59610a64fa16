"""``tinker.types.image_asset_pointer_chunk`` of the official SDK, at the same import path."""

from __future__ import annotations

from .model_input import ImageAssetPointerChunk as ImageAssetPointerChunk

__all__ = ["ImageAssetPointerChunk"]
