"""``tinker.types.training_run`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import TrainingRun as TrainingRun

__all__ = ["TrainingRun"]
