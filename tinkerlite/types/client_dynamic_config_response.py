"""``tinker.types.client_dynamic_config_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["ClientDynamicConfigResponse"]


@dataclass(kw_only=True)
class ClientDynamicConfigResponse(WireRecord):
    refresh_interval_sec: int = 300
    sample_cancel_enabled: bool = False
    sample_cancel_max_batch_size: int = 64
