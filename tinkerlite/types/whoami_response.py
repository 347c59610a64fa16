"""``tinker.types.whoami_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass

from ._record import JsonRecord

__all__ = ["WhoamiResponse"]


@dataclass(kw_only=True)
class WhoamiResponse(JsonRecord):
    user_urn: str
    org_urn: str
    email: str | None = None
