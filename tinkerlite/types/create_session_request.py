"""``tinker.types.create_session_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Any, Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CreateSessionRequest"]


@dataclass(kw_only=True)
class CreateSessionRequest(WireRecord):
    tags: list[str]
    user_metadata: dict[str, Any] | None
    sdk_version: str
    project_id: str | None = None
    display_name: str | None = None
    type: Literal["create_session"] = "create_session"
