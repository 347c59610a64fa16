"""``tinker.types.auth_token_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["AuthTokenResponse"]


@dataclass(kw_only=True)
class AuthTokenResponse(WireRecord):
    jwt: str
