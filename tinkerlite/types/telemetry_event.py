"""``tinker.types.telemetry_event`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import TypeAlias

from .generic_event import GenericEvent
from .session_end_event import SessionEndEvent
from .session_start_event import SessionStartEvent
from .unhandled_exception_event import UnhandledExceptionEvent

__all__ = ["TelemetryEvent"]


TelemetryEvent: TypeAlias = SessionStartEvent | SessionEndEvent | UnhandledExceptionEvent | GenericEvent
