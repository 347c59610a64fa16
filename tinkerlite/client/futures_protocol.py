"""The ``retrieve_future`` long-poll state machine of §3.2, without I/O.

A driver asks :meth:`FuturePoll.next_request` for what to send, performs it, and feeds the reply to
:meth:`FuturePoll.on_response` (or a failure to :meth:`FuturePoll.on_transport_error`). The answer
is an action: re-poll after a delay (0 means at once), finish with a payload, or raise.

Bounded: try-again/408 answers keep polling (the server is alive and working; one answered at once
waits ``min(0.05·2ⁿ, 1)`` s so a server that does not long-poll is not hammered); connection errors,
timeouts and 5xx back off exponentially and, given ``budget_s``, raise one flat error once they have
lasted that long without a usable answer. A fatal answer raises the SDK's class (``ValueError``) that
is also the status class (``NotFoundError``, ...), so both kinds of ``except`` clause match.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    RequestFailedError,
    ResponseInfo,
    RetryableException,
    make_status_error,
)
from ..errors import ProtocolError
from ..types._lazy import dataclass
from .headers import retrieve_future_headers
from .retry import (
    BILLING_SLEEP_S,
    POLL_FAST_ANSWER_S,
    BillingPause,
    budget_verdict,
    poll_5xx_backoff,
    poll_backoff,
    poll_fast_answer_delay,
)

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
    #: Seconds of connection errors/timeouts/5xx in a row before raising; None: retry without end.
    budget_s: float | None = None
    url: str = "the Tinker API"
    wall: Callable[[], float] = time.time
    server_errors: int = 0
    fast_answers: int = 0
    outage_start: float | None = None
    outage_start_wall: float | None = None

    def next_request(self, now: float | None = None) -> PollRequest:
        """What to send next; the timeout never runs past the budget (nor, in an outage, past what is left)."""
        self.iteration += 1
        timeout = RETRIEVE_TIMEOUT_S if self.budget_s is None else min(RETRIEVE_TIMEOUT_S, self.budget_s)
        if now is not None and self.budget_s is not None and self.outage_start is not None:
            timeout = max(0.1, min(timeout, self.outage_start + self.budget_s - now))
        return PollRequest(
            body={"request_id": self.request_id, "allow_metadata_only": self.allow_metadata_only},
            headers=retrieve_future_headers(self.request_type, self.iteration, self.want_proto, self.roundtrip_s),
            timeout=timeout,
        )

    def _outage(
        self, error: BaseException, delay: float, reason: str, now: float | None, sent_at: float | None
    ) -> Action:
        """Count a failed poll against the budget (from when it was sent): re-poll after ``delay`` or raise."""
        if now is None or self.budget_s is None:
            return Repoll(delay, reason)
        if self.outage_start is None:
            start = now if sent_at is None else sent_at
            self.outage_start, self.outage_start_wall = start, self.wall() - (now - start)
        elapsed = now - self.outage_start
        if elapsed >= self.budget_s:
            what = f"waiting for the result of {self.request_type} request {self.request_id}"
            since = self.outage_start_wall if self.outage_start_wall is not None else self.wall() - elapsed
            return Raise(
                budget_verdict(
                    error, what=what, url=self.url, since_wall=since, elapsed_s=elapsed, budget_s=self.budget_s
                )
            )
        return Repoll(max(0.0, min(delay, self.outage_start + self.budget_s - now)), reason)

    def _answered(self) -> None:
        self.outage_start = self.outage_start_wall = None
        self.server_errors = 0

    def on_transport_error(
        self, error: BaseException, now: float | None = None, sent_at: float | None = None
    ) -> Action:
        """No HTTP response (refused, reset, timeout): back off ``min(2ⁿ, 30)`` s, within the budget."""
        if not isinstance(error, (APIConnectionError, TimeoutError, OSError)):
            return Raise(error)
        delay = poll_backoff(self.transport_errors)
        self.transport_errors += 1
        return self._outage(error, delay, f"transport error: {type(error).__name__}", now, sent_at)

    def _try_again(self, reason: str, elapsed: float | None) -> Repoll:
        if elapsed is not None and elapsed < POLL_FAST_ANSWER_S:
            delay = poll_fast_answer_delay(self.fast_answers)
            self.fast_answers += 1
            return Repoll(delay, reason)
        self.fast_answers = 0
        return Repoll(0.0, reason)

    def on_response(
        self, status: int, headers: Mapping[str, str], body: bytes, now: float, elapsed: float | None = None
    ) -> Action:
        """``elapsed``: how long the exchange took (a try-again answered at once gets a short pause)."""
        hdrs = _lower(headers)
        if 200 <= status < 300:
            self.transport_errors = 0
            self._answered()
            return self._on_success(hdrs, body, elapsed)
        response = ResponseInfo(status, hdrs, body)
        if status == 429:
            self._answered()
            delay = poll_backoff(self.transport_errors)
            self.transport_errors += 1
            return Repoll(delay, "429 rate limited")
        self.transport_errors = 0
        if 500 <= status < 600:
            delay = poll_5xx_backoff(self.server_errors)
            self.server_errors += 1
            sent_at = None if elapsed is None else now - elapsed
            return self._outage(make_status_error(response), delay, f"{status} server error", now, sent_at)
        self._answered()
        if status == 408:
            parsed = _try_json(body)
            if parsed is not None:
                self.bad_request_retries = 0
                qs = parsed.get("queue_state")
                self.last_queue_state = qs if isinstance(qs, str) else self.last_queue_state
            return self._try_again("408 try again", elapsed)
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

    def _on_success(self, hdrs: Mapping[str, str], body: bytes, elapsed: float | None) -> Action:
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
            return self._try_again("try_again", elapsed)
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
        """The status class, made a ``ValueError`` too: the SDK raises ``ValueError`` for these answers."""
        extra = f"while retrieving the result of request {self.request_id} ({self.request_type})"
        error = make_status_error(response, hint=f"{extra}; {hint}" if hint else extra)
        return retrieve_error_class(type(error))(str(error), error.response, error.body)


_RETRIEVE_CLASSES: dict[type[APIStatusError], type[APIStatusError]] = {}


def retrieve_error_class(cls: type[APIStatusError]) -> type[APIStatusError]:
    """``cls`` plus ``ValueError`` (cached): what a fatal ``retrieve_future`` answer raises."""
    found = _RETRIEVE_CLASSES.get(cls)
    if found is None:
        found = type(cls.__name__, (cls, ValueError), {"__module__": cls.__module__, "__doc__": cls.__doc__})
        _RETRIEVE_CLASSES[cls] = found
    return found


def _try_json(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
