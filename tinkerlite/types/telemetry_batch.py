"""``tinker.types.telemetry_batch`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .telemetry_event import TelemetryEvent

__all__ = ["TelemetryBatch"]


@dataclass(kw_only=True)
class TelemetryBatch(WireRecord):
    events: list[TelemetryEvent]
    platform: str
    sdk_version: str
    session_id: str
    process_uuid: str
    _nested_list = {"events": TelemetryEvent}  # noqa: RUF012
