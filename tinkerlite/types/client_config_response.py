"""``tinker.types.client_config_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import ClientConfigResponse as ClientConfigResponse

__all__ = ["ClientConfigResponse"]
