"""``tinker.types.create_model_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import CreateModelResponse as CreateModelResponse

__all__ = ["CreateModelResponse"]
