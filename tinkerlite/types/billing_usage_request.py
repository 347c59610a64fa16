"""``tinker.types.billing_usage_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["GetBillingUsageRequest"]


@dataclass(kw_only=True)
class GetBillingUsageRequest(WireRecord):
    starting_on: datetime
    ending_before: datetime
    _datetimes = ("starting_on", "ending_before")
