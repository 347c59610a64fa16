"""``tinker.types.client_config_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass

from ._record import JsonRecord

__all__ = ["ClientConfigRequest"]


@dataclass(kw_only=True)
class ClientConfigRequest(JsonRecord):
    sdk_version: str
