"""``tinker.types.external_weights_urls_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ._record import JsonRecord

__all__ = ["ExternalWeightsUrlsResponse"]


@dataclass(kw_only=True)
class ExternalWeightsUrlsResponse(JsonRecord):
    urls: dict[str, str]
    expires: datetime
    _datetimes = ("expires",)
