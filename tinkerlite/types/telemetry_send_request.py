"""``tinker.types.telemetry_send_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .telemetry_event import TelemetryEvent

__all__ = ["TelemetrySendRequest"]


@dataclass(kw_only=True)
class TelemetrySendRequest(WireRecord):
    events: list[TelemetryEvent]
    platform: str
    sdk_version: str
    session_id: str
    process_uuid: str
    _nested_list = {"events": TelemetryEvent}  # noqa: RUF012
