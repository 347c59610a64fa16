"""``tinker.types.whoami_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["WhoamiResponse"]


@dataclass(kw_only=True)
class WhoamiResponse(WireRecord):
    user_urn: str
    org_urn: str
    email: str | None = None
