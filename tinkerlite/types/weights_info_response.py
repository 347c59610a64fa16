"""``tinker.types.weights_info_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import WeightsInfoResponse as WeightsInfoResponse

__all__ = ["WeightsInfoResponse"]
