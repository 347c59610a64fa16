"""``tinker.types.futures_retrieve_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .future_completion import FutureCompletion

__all__ = ["FuturesRetrieveResponse"]


@dataclass(kw_only=True)
class FuturesRetrieveResponse(WireRecord):
    completions: list[FutureCompletion]
    cursor: int
    _nested_list = {"completions": FutureCompletion}  # noqa: RUF012
