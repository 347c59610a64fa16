"""``tinker.types.session_status_query`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ._record import JsonRecord

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
class ActiveSessionStatusQuery(JsonRecord):
    type: Literal["active"] = "active"


@dataclass(kw_only=True)
class CancelledSessionStatusQuery(JsonRecord):
    type: Literal["cancelled"] = "cancelled"


@dataclass(kw_only=True)
class FailedSessionStatusQuery(JsonRecord):
    type: Literal["failed"] = "failed"


@dataclass(kw_only=True)
class ClientFinishedSessionStatusQuery(JsonRecord):
    type: Literal["client_finished"] = "client_finished"
    reasons: list[ClientSessionFinishReasonType] | None = None
    _nested_list = {"reasons": ClientSessionFinishReasonType}  # noqa: RUF012


SessionStatusQuery: TypeAlias = (
    ActiveSessionStatusQuery | CancelledSessionStatusQuery | FailedSessionStatusQuery | ClientFinishedSessionStatusQuery
)
