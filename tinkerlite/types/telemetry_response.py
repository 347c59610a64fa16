"""``tinker.types.telemetry_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["TelemetryResponse"]


@dataclass(kw_only=True)
class TelemetryResponse(WireRecord):
    status: Literal["accepted"]
