"""``tinker.types.session_status_query`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = [
    "ActiveSessionStatusQuery",
    "CancelledSessionStatusQuery",
    "ClientFinishedSessionStatusQuery",
    "ClientSessionFinishReasonType",
    "FailedSessionStatusQuery",
    "SessionStatusQuery",
]


ClientSessionFinishReasonType: TypeAlias = Literal["success", "errored", "interrupted"]


@dataclass(kw_only=True)
class ActiveSessionStatusQuery(WireRecord):
    type: Literal["active"] = "active"


@dataclass(kw_only=True)
class CancelledSessionStatusQuery(WireRecord):
    type: Literal["cancelled"] = "cancelled"


@dataclass(kw_only=True)
class FailedSessionStatusQuery(WireRecord):
    type: Literal["failed"] = "failed"


@dataclass(kw_only=True)
class ClientFinishedSessionStatusQuery(WireRecord):
    type: Literal["client_finished"] = "client_finished"
    reasons: list[ClientSessionFinishReasonType] | None = None
    _nested_list = {"reasons": ClientSessionFinishReasonType}  # noqa: RUF012
    _bounds = {"reasons": {"min_length": 1}}  # noqa: RUF012


SessionStatusQuery: TypeAlias = (
    ActiveSessionStatusQuery | CancelledSessionStatusQuery | FailedSessionStatusQuery | ClientFinishedSessionStatusQuery
)
