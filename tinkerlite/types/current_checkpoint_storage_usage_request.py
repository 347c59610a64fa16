"""``tinker.types.current_checkpoint_storage_usage_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["GetCurrentCheckpointStorageUsageRequest"]


@dataclass(kw_only=True)
class GetCurrentCheckpointStorageUsageRequest(WireRecord):
    project_id: str | None = None
