"""``tinker.types.optim_step_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import OptimStepResponse as OptimStepResponse

__all__ = ["OptimStepResponse"]
