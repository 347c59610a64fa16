"""``tinker.types.checkpoints_list_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import CheckpointsListResponse as CheckpointsListResponse

__all__ = ["CheckpointsListResponse"]
