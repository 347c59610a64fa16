"""``tinker.types.get_server_capabilities_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import GetServerCapabilitiesResponse as GetServerCapabilitiesResponse
from .records import SupportedModel as SupportedModel

__all__ = ["GetServerCapabilitiesResponse", "SupportedModel"]
