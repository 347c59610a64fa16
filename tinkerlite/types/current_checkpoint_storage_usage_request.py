"""``tinker.types.current_checkpoint_storage_usage_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass

from ._record import JsonRecord

__all__ = ["GetCurrentCheckpointStorageUsageRequest"]


@dataclass(kw_only=True)
class GetCurrentCheckpointStorageUsageRequest(JsonRecord):
    project_id: str | None = None
