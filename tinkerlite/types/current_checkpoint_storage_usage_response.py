"""``tinker.types.current_checkpoint_storage_usage_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CurrentCheckpointStorageUsageItem", "CurrentCheckpointStorageUsageResponse"]


@dataclass(kw_only=True)
class CurrentCheckpointStorageUsageItem(WireRecord):
    project_id: str | None = None
    org_user_urn: str | None = None
    user_email: str | None = None
    user_name: str | None = None
    checkpoint_count: int
    size_bytes: int
    size_gigabytes: float
    estimated_monthly_cost_usd: float | None = None


@dataclass(kw_only=True)
class CurrentCheckpointStorageUsageResponse(WireRecord):
    effective_rate_usd_per_gigabyte_month: float | None = None
    data: list[CurrentCheckpointStorageUsageItem]
    _nested_list = {"data": CurrentCheckpointStorageUsageItem}  # noqa: RUF012
