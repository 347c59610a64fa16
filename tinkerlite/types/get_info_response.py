"""``tinker.types.get_info_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import GetInfoResponse as GetInfoResponse
from .records import ModelData as ModelData

__all__ = ["GetInfoResponse", "ModelData"]
