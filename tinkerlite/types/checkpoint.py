"""``tinker.types.checkpoint`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import Checkpoint as Checkpoint
from .records import CheckpointType as CheckpointType

__all__ = ["Checkpoint", "CheckpointType"]
