"""``tinker.types.telemetry_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._record import JsonRecord

__all__ = ["TelemetryResponse"]


@dataclass(kw_only=True)
class TelemetryResponse(JsonRecord):
    status: Literal["accepted"]
