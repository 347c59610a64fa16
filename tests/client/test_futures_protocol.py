"""Every row of the §3.2 retrieve_future table, against the pure state machine."""

from __future__ import annotations

import json

import pytest

from tinkerlite._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BillingError,
    NotFoundError,
    PermissionDeniedError,
    RequestFailedError,
    RetryableException,
    UnprocessableEntityError,
)
from tinkerlite.client.futures_protocol import Done, FuturePoll, Raise, Repoll
from tinkerlite.client.retry import BillingPause
from tinkerlite.errors import ProtocolError

JSON_CT = {"Content-Type": "application/json"}


def j(obj: object) -> bytes:
    return json.dumps(obj).encode()


def poll(want_proto: bool = False, **kw: object) -> FuturePoll:
    p = FuturePoll("req-1", "ForwardBackward" if want_proto else "OptimStep", want_proto, **kw)  # type: ignore[arg-type]
    p.next_request()
    return p


def test_request_shape_and_headers() -> None:
    p = FuturePoll("req-9", "Sample", True, roundtrip_s=0.25)
    r0 = p.next_request()
    assert r0.path == "/api/v1/retrieve_future"
    assert r0.body == {"request_id": "req-9", "allow_metadata_only": True}
    assert r0.timeout == 45
    assert r0.headers["Accept"] == "application/x-protobuf"
    assert r0.headers["X-Tinker-Request-Iteration"] == "0"
    assert r0.headers["X-Tinker-Request-Type"] == "Sample"
    assert r0.headers["X-Tinker-Create-Promise-Roundtrip-Time"] == "0.25"
    r1 = p.next_request()
    assert r1.headers["X-Tinker-Request-Iteration"] == "1"
    assert "X-Tinker-Create-Promise-Roundtrip-Time" not in r1.headers


def test_json_result_types_do_not_ask_for_protobuf() -> None:
    r = FuturePoll("r", "OptimStep", False).next_request()
    assert "Accept" not in r.headers


def test_row_protobuf_success() -> None:
    a = poll(True).on_response(200, {"Content-Type": "application/x-protobuf"}, b"\x0a\x01x", 0)
    assert a == Done(proto=b"\x0a\x01x")


def test_row_try_again_repolls_at_once() -> None:
    p = poll()
    a = p.on_response(
        200, JSON_CT, j({"type": "try_again", "request_id": "req-1", "queue_state": "paused_capacity"}), 0
    )
    assert isinstance(a, Repoll) and a.delay == 0
    assert p.last_queue_state == "paused_capacity"


def test_row_complete_metadata_then_flag_off() -> None:
    p = poll()
    a = p.on_response(200, JSON_CT, j({"status": "complete_metadata", "response_payload_size": 1234}), 0)
    assert isinstance(a, Repoll) and a.delay == 0
    assert p.metadata_payload_size == 1234
    assert p.next_request().body["allow_metadata_only"] is False
    again = p.on_response(200, JSON_CT, j({"status": "complete_metadata", "response_payload_size": 1}), 0)
    assert isinstance(again, Raise) and isinstance(again.error, ProtocolError)


@pytest.mark.parametrize(
    ("category", "expected"),
    [("user", "user"), ("server", "server"), ("unknown", "unknown"), ("user_error", "unknown"), (None, "unknown")],
)
def test_row_failed_request(category: str | None, expected: str) -> None:
    body = {"error": "bad datum", "category": category} if category else {"error": "bad datum"}
    a = poll().on_response(200, JSON_CT, j(body), 0)
    assert isinstance(a, Raise) and isinstance(a.error, RequestFailedError)
    assert a.error.category == expected and a.error.request_id == "req-1"
    assert "bad datum" in str(a.error)


def test_row_json_success() -> None:
    a = poll().on_response(200, JSON_CT, j({"metrics": {"x:sum": 1.0}}), 0)
    assert a == Done(json={"metrics": {"x:sum": 1.0}})


def test_json_success_for_protobuf_type_is_accepted_as_fallback() -> None:
    a = poll(True).on_response(200, JSON_CT, j({"loss_fn_output_type": "A", "loss_fn_outputs": [], "metrics": {}}), 0)
    assert isinstance(a, Done) and a.json is not None


def test_garbage_2xx_is_a_protocol_error() -> None:
    a = poll().on_response(200, {"Content-Type": "text/html"}, b"<html>", 0)
    assert isinstance(a, Raise) and isinstance(a.error, ProtocolError)


def test_row_408_immediate_and_resets_bad_request_budget() -> None:
    p = poll()
    for _ in range(3):
        assert isinstance(p.on_response(400, {}, b"", 0), Repoll)
    a = p.on_response(408, JSON_CT, j({"type": "try_again", "queue_state": "active"}), 0)
    assert isinstance(a, Repoll) and a.delay == 0
    assert p.bad_request_retries == 0
    assert isinstance(p.on_response(400, {}, b"", 0), Repoll)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_row_5xx_backs_off(status: int) -> None:
    # The SDK re-polls a 5xx at once (a hot loop on 503 forever); tinkerlite backs off min(0.5·2ⁿ, 30).
    p = poll()
    delays = [p.on_response(status, {}, b"", 0).delay for _ in range(8)]  # type: ignore[union-attr]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_5xx_and_transport_errors_raise_one_flat_error_past_the_budget() -> None:
    p = poll()
    p.budget_s = 10.0
    p.url = "http://127.0.0.1:9"
    now = 0.0
    while True:
        a = p.on_response(503, {}, b"", now) if now < 5 else p.on_transport_error(APIConnectionError(None), now)
        if isinstance(a, Raise):
            break
        assert isinstance(a, Repoll) and now + a.delay <= 10.0  # never sleeps past the budget
        now += a.delay
    assert now == 10.0 and isinstance(a.error, APIConnectionError)
    text = str(a.error)
    assert "\n" not in text and "http://127.0.0.1:9" in text and "resume" in text and "req-1" in text
    q = poll(budget_s=10.0)
    q.on_transport_error(APITimeoutError(None), 0.0)
    assert q.next_request(8.0).timeout == 2.0  # the attempt in flight stays inside the budget


def test_a_try_again_answered_at_once_pauses_a_little_longer_each_time() -> None:
    p = poll()
    body = j({"type": "try_again"})
    fast = [p.on_response(200, JSON_CT, body, 0, elapsed=0.001).delay for _ in range(7)]  # type: ignore[union-attr]
    assert fast == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert p.on_response(200, JSON_CT, body, 0, elapsed=0.3).delay == 0  # type: ignore[union-attr]  # long-polled


def test_row_429_and_connection_errors_back_off_exponentially_capped() -> None:
    p = poll()
    delays = []
    for i in range(7):
        a = p.on_response(429, {}, b"", 0) if i % 2 == 0 else p.on_transport_error(APIConnectionError(None))
        assert isinstance(a, Repoll)
        delays.append(a.delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert isinstance(p.on_transport_error(APITimeoutError(None)), Repoll)


def test_backoff_counter_resets_on_any_http_response() -> None:
    p = poll()
    p.on_transport_error(APIConnectionError(None))
    p.on_transport_error(APIConnectionError(None))
    p.on_response(503, {}, b"", 0)
    a = p.on_transport_error(APIConnectionError(None))
    assert isinstance(a, Repoll) and a.delay == 1
    p.on_transport_error(APIConnectionError(None))
    p.on_response(200, JSON_CT, j({"type": "try_again"}), 0)
    assert p.transport_errors == 0


def test_row_400_three_retries_then_raise() -> None:
    p = poll()
    for _ in range(3):
        a = p.on_response(400, {}, b"", 0)
        assert isinstance(a, Repoll) and a.delay == 0
    a = p.on_response(400, JSON_CT, j({"detail": "nope"}), 0)
    assert isinstance(a, Raise) and isinstance(a.error, BadRequestError)
    assert isinstance(a.error, ValueError)  # the SDK's class for this answer
    assert "req-1" in str(a.error)


def test_row_402_billing_pause_then_fail() -> None:
    billing = BillingPause(max_pause_s=3600)
    p = poll(billing=billing)
    now = 0.0
    while now <= 3600.0:  # continuous 402s, one every 5 s, stay paused for the whole hour
        a = p.on_response(402, {}, b"", now=now)
        assert isinstance(a, Repoll) and a.delay == 5
        now += 5.0
    a = p.on_response(402, JSON_CT, j({"detail": "pay"}), now=now)
    assert isinstance(a, Raise) and isinstance(a.error, BillingError)


def test_billing_pause_new_incident_after_quiet_period() -> None:
    b = BillingPause(max_pause_s=60)
    assert b.should_pause(402, 0.0)
    assert b.should_pause(402, 50.0)
    assert not b.should_pause(402, 61.0)  # continuous for more than max_pause_s
    assert b.should_pause(402, 61.0 + 301.0)  # > 5 min after the last 402: a new incident
    assert not b.should_pause(500, 0.0)


def test_row_410_retryable_exception() -> None:
    a = poll().on_response(410, {}, b"", 0)
    assert isinstance(a, Raise) and isinstance(a.error, RetryableException)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError), (422, UnprocessableEntityError)],
)
def test_row_other_4xx_fatal(status: int, cls: type) -> None:
    p = poll(auth_hint="The credential came from TINKER_API_KEY")
    a = p.on_response(status, JSON_CT, j({"detail": "x"}), 0)
    assert isinstance(a, Raise) and isinstance(a.error, cls) and isinstance(a.error, ValueError)
    assert ("TINKER_API_KEY" in str(a.error)) == (status in (401, 403))


def test_non_network_errors_are_not_swallowed() -> None:
    err = RuntimeError("bug")
    a = poll().on_transport_error(err)
    assert isinstance(a, Raise) and a.error is err
