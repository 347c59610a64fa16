"""``tinker.types.save_weights_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import SaveWeightsResponse as SaveWeightsResponse

__all__ = ["SaveWeightsResponse"]
