"""``tinker.types.session_status`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = [
    "ClientSessionFinishErrored",
    "ClientSessionFinishInterrupted",
    "ClientSessionFinishReason",
    "ClientSessionFinishSuccess",
    "ClientSessionFinished",
    "SessionActive",
    "SessionCancelled",
    "SessionFailed",
    "SessionFailedReason",
    "SessionFailedRequestReason",
    "SessionFailedSamplingSessionReason",
    "SessionFailedTrainingRunReason",
    "SessionStatus",
]


@dataclass(kw_only=True)
class SessionFailedRequestReason(WireRecord):
    type: Literal["request"] = "request"
    request_id: str
    request_type: str


@dataclass(kw_only=True)
class SessionFailedTrainingRunReason(WireRecord):
    type: Literal["training_run"] = "training_run"
    training_run_id: str


@dataclass(kw_only=True)
class SessionFailedSamplingSessionReason(WireRecord):
    type: Literal["sampling_session"] = "sampling_session"
    sampling_session_id: str


SessionFailedReason: TypeAlias = (
    SessionFailedRequestReason | SessionFailedTrainingRunReason | SessionFailedSamplingSessionReason
)


@dataclass(kw_only=True)
class SessionFailed(WireRecord):
    type: Literal["failed"] = "failed"
    category: Literal["user", "internal"]
    reason: SessionFailedReason
    message: str
    _nested = {"reason": SessionFailedReason}  # noqa: RUF012


@dataclass(kw_only=True)
class SessionCancelled(WireRecord):
    type: Literal["cancelled"] = "cancelled"
    detail: str | None = None


@dataclass(kw_only=True)
class ClientSessionFinishSuccess(WireRecord):
    type: Literal["success"] = "success"


@dataclass(kw_only=True)
class ClientSessionFinishErrored(WireRecord):
    type: Literal["errored"] = "errored"


@dataclass(kw_only=True)
class ClientSessionFinishInterrupted(WireRecord):
    type: Literal["interrupted"] = "interrupted"


ClientSessionFinishReason: TypeAlias = (
    ClientSessionFinishSuccess | ClientSessionFinishErrored | ClientSessionFinishInterrupted
)


@dataclass(kw_only=True)
class ClientSessionFinished(WireRecord):
    type: Literal["client_finished"] = "client_finished"
    reason: ClientSessionFinishReason
    detail: str | None = None
    _nested = {"reason": ClientSessionFinishReason}  # noqa: RUF012


@dataclass(kw_only=True)
class SessionActive(WireRecord):
    type: Literal["active"] = "active"


SessionStatus: TypeAlias = SessionFailed | SessionCancelled | ClientSessionFinished | SessionActive
