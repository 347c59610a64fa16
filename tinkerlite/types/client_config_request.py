"""``tinker.types.client_config_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["ClientConfigRequest"]


@dataclass(kw_only=True)
class ClientConfigRequest(WireRecord):
    sdk_version: str
