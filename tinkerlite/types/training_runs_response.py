"""``tinker.types.training_runs_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import TrainingRunsResponse as TrainingRunsResponse

__all__ = ["TrainingRunsResponse"]
