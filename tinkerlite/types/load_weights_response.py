"""``tinker.types.load_weights_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import LoadWeightsResponse as LoadWeightsResponse

__all__ = ["LoadWeightsResponse"]
