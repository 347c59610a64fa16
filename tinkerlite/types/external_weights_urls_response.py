"""``tinker.types.external_weights_urls_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from datetime import datetime

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["ExternalWeightsUrlsResponse"]


@dataclass(kw_only=True)
class ExternalWeightsUrlsResponse(WireRecord):
    urls: dict[str, str]
    expires: datetime
    _datetimes = ("expires",)
