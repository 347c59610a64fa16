"""``tinker.types.billing_usage_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = [
    "BillingEventInfo",
    "BillingUsageEvent",
    "BillingUsageResponse",
    "BillingUsageSession",
    "CheckpointBillingEvent",
    "SamplingPrefillBillingEvent",
    "SamplingSampleBillingEvent",
    "StorageBillingEvent",
    "TrainingBillingEvent",
]


@dataclass(kw_only=True)
class TrainingBillingEvent(WireRecord):
    type: Literal["training"] = "training"
    token_count: int


@dataclass(kw_only=True)
class SamplingPrefillBillingEvent(WireRecord):
    type: Literal["sampling_prefill"] = "sampling_prefill"
    cached: bool
    token_count: int


@dataclass(kw_only=True)
class SamplingSampleBillingEvent(WireRecord):
    type: Literal["sampling_sample"] = "sampling_sample"
    token_count: int


@dataclass(kw_only=True)
class CheckpointBillingEvent(WireRecord):
    type: Literal["checkpoint"] = "checkpoint"
    count: int


@dataclass(kw_only=True)
class StorageBillingEvent(WireRecord):
    type: Literal["storage"] = "storage"
    free: bool = False
    gigabyte_hours: float


BillingEventInfo: TypeAlias = (
    TrainingBillingEvent
    | SamplingPrefillBillingEvent
    | SamplingSampleBillingEvent
    | CheckpointBillingEvent
    | StorageBillingEvent
)


@dataclass(kw_only=True)
class BillingUsageEvent(WireRecord):
    bucket_start: datetime
    bucket_end: datetime
    base_model: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    session_id: str | None = None
    project_id: str | None = None
    estimated_cost_usd: float | None = None
    effective_rate_usd_per_million_tokens: float | None = None
    effective_rate_usd_per_gigabyte_month: float | None = None
    event_info: BillingEventInfo
    _nested = {"event_info": BillingEventInfo}  # noqa: RUF012
    _datetimes = ("bucket_start", "bucket_end")


@dataclass(kw_only=True)
class BillingUsageSession(WireRecord):
    user_metadata: dict[str, str] | None = None


@dataclass(kw_only=True)
class BillingUsageResponse(WireRecord):
    data: list[BillingUsageEvent]
    sessions: dict[str, BillingUsageSession] = field(default_factory=dict)
    cost_data_through: datetime | None = None
    _nested_list = {"data": BillingUsageEvent}  # noqa: RUF012
    _datetimes = ("cost_data_through",)
