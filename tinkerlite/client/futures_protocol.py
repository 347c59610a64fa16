"""The ``retrieve_future`` long-poll state machine of §3.2, without I/O.

A driver asks :meth:`FuturePoll.next_request` for what to send, performs it, and feeds the reply to
:meth:`FuturePoll.on_response` (or a failure to :meth:`FuturePoll.on_transport_error`). The answer
is an action: re-poll after a delay (0 means at once), finish with a payload, or raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import (
    APIConnectionError,
    RequestFailedError,
    ResponseInfo,
    RetryableException,
    make_status_error,
)
from ..errors import ProtocolError
from .headers import retrieve_future_headers
from .retry import BILLING_SLEEP_S, BillingPause, poll_backoff

RETRIEVE_TIMEOUT_S = 45.0
MAX_BAD_REQUEST_RETRIES = 3
CATEGORIES = frozenset({"unknown", "server", "user"})
PROTO_REQUEST_TYPES = frozenset({"ForwardBackward", "Forward", "Sample"})


@dataclass(frozen=True)
class PollRequest:
    body: dict[str, Any]
    headers: dict[str, str]
    timeout: float = RETRIEVE_TIMEOUT_S
    path: str = "/api/v1/retrieve_future"


@dataclass(frozen=True)
class Repoll:
    delay: float
    reason: str


@dataclass(frozen=True)
class Done:
    """Success: ``proto`` holds the protobuf body, else ``json`` the decoded JSON object."""

    proto: bytes | None = None
    json: dict[str, Any] | None = None


@dataclass(frozen=True)
class Raise:
    error: BaseException


Action = Repoll | Done | Raise


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


@dataclass
class FuturePoll:
    request_id: str
    request_type: str
    want_proto: bool
    billing: BillingPause = field(default_factory=BillingPause)
    roundtrip_s: float | None = None
    auth_hint: str | None = None
    iteration: int = -1
    allow_metadata_only: bool = True
    transport_errors: int = 0
    bad_request_retries: int = 0
    last_queue_state: str | None = None
    metadata_payload_size: int | None = None

    def next_request(self) -> PollRequest:
        self.iteration += 1
        return PollRequest(
            body={"request_id": self.request_id, "allow_metadata_only": self.allow_metadata_only},
            headers=retrieve_future_headers(self.request_type, self.iteration, self.want_proto, self.roundtrip_s),
        )

    def on_transport_error(self, error: BaseException) -> Action:
        """No HTTP response (refused, reset, timeout): back off ``min(2ⁿ, 30)`` s."""
        if not isinstance(error, (APIConnectionError, TimeoutError, OSError)):
            return Raise(error)
        delay = poll_backoff(self.transport_errors)
        self.transport_errors += 1
        return Repoll(delay, f"transport error: {type(error).__name__}")

    def on_response(self, status: int, headers: Mapping[str, str], body: bytes, now: float) -> Action:
        hdrs = _lower(headers)
        if 200 <= status < 300:
            self.transport_errors = 0
            return self._on_success(hdrs, body)
        response = ResponseInfo(status, hdrs, body)
        if status == 429:
            delay = poll_backoff(self.transport_errors)
            self.transport_errors += 1
            return Repoll(delay, "429 rate limited")
        self.transport_errors = 0
        if status == 408:
            parsed = _try_json(body)
            if parsed is not None:
                self.bad_request_retries = 0
                qs = parsed.get("queue_state")
                self.last_queue_state = qs if isinstance(qs, str) else self.last_queue_state
            return Repoll(0.0, "408 try again")
        if 500 <= status < 600:
            return Repoll(0.0, f"{status} server error")
        if status == 400:
            if self.bad_request_retries < MAX_BAD_REQUEST_RETRIES:
                self.bad_request_retries += 1
                return Repoll(0.0, "400 (maybe from a proxy), retrying")
            return Raise(self._status_error(response, f"exceeded {MAX_BAD_REQUEST_RETRIES} retries"))
        if status == 402:
            if self.billing.should_pause(402, now):
                return Repoll(BILLING_SLEEP_S, "402 billing pause")
            return Raise(self._status_error(response, "billing pause exceeded its maximum duration"))
        if status == 410:
            return Raise(RetryableException(f"Promise expired/broken for request {self.request_id}"))
        hint = self.auth_hint if status in (401, 403) else None
        return Raise(self._status_error(response, hint))

    def _on_success(self, hdrs: Mapping[str, str], body: bytes) -> Action:
        if "application/x-protobuf" in hdrs.get("content-type", ""):
            return Done(proto=body)
        parsed = _try_json(body)
        if parsed is None:
            return Raise(
                ProtocolError(
                    f"retrieve_future for {self.request_id}: 2xx reply is neither protobuf nor a JSON "
                    f"object (content-type {hdrs.get('content-type', 'missing')!r}, {len(body)} bytes)"
                )
            )
        if parsed.get("type") == "try_again":
            self.last_queue_state = str(parsed.get("queue_state") or "") or None
            return Repoll(0.0, "try_again")
        if parsed.get("status") == "complete_metadata":
            if not self.allow_metadata_only:
                return Raise(ProtocolError("server sent complete_metadata twice"))
            self.allow_metadata_only = False
            size = parsed.get("response_payload_size")
            self.metadata_payload_size = int(size) if isinstance(size, int) else 0
            return Repoll(0.0, "complete_metadata")
        if "error" in parsed:
            category = parsed.get("category")
            cat = category if isinstance(category, str) and category in CATEGORIES else "unknown"
            return Raise(
                RequestFailedError(
                    f"Request failed: {parsed['error']} for request_id={self.request_id!r}",
                    request_id=self.request_id,
                    category=cat,
                )
            )
        return Done(json=parsed)

    def _status_error(self, response: ResponseInfo, hint: str | None) -> BaseException:
        extra = f"while retrieving the result of request {self.request_id} ({self.request_type})"
        return make_status_error(response, hint=f"{extra}; {hint}" if hint else extra)


def _try_json(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
