"""The holder's HTTP and retry drivers against a scripted transport: no sockets, no real sleeps."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from typing import Any

import pytest

from tinkerlite._exceptions import (
    APIConnectionError,
    BadRequestError,
    InternalServerError,
    RequestInfo,
    ResponseInfo,
)
from tinkerlite.client.holder import Holder

from .helpers import FakeClock

KEY = "tml-fake-0000"


class ScriptedTransport:
    def __init__(self, *steps: ResponseInfo | BaseException) -> None:
        self.steps: deque[ResponseInfo | BaseException] = deque(steps)
        self.sent: list[tuple[str, str, dict[str, str], bytes | None, float]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> ResponseInfo:
        self.sent.append((method, url, dict(headers), body, timeout))
        step = self.steps.popleft()
        if isinstance(step, BaseException):
            raise step
        return step

    def close(self) -> None:
        pass


def ok(body: bytes = b"{}") -> ResponseInfo:
    return ResponseInfo(200, {"content-type": "application/json"}, body)


def run(holder: Holder, coro: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, holder.loop).result(timeout=10)


def make(transport: ScriptedTransport, clock: FakeClock, **kw: Any) -> Holder:
    return Holder(
        base_url="http://fake.invalid/pre",
        api_key=KEY,
        transport=transport,
        clock=clock,
        wall=clock,
        sleep=clock.sleep,
        rng=lambda: 0.0,
        heartbeat_period_s=0,
        env={},
        **kw,
    )


def test_http_layer_retries_then_succeeds(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(
        ResponseInfo(503),
        ResponseInfo(429, {"retry-after": "3"}),
        APIConnectionError(RequestInfo("POST", "x")),
        ok(b'{"a": 1}'),
    )
    h = make(t, fake_clock)
    h._reachable = True
    assert run(h, h.post_json("/api/v1/thing", {"x": 1})) == {"a": 1}
    assert fake_clock.sleeps == [0.5, 3.0, 2.0]
    urls = {s[1] for s in t.sent}
    assert urls == {"http://fake.invalid/pre/api/v1/thing"}
    keys = {s[2]["X-Idempotency-Key"] for s in t.sent}
    assert len(keys) == 1
    assert [s[2]["x-stainless-retry-count"] for s in t.sent] == ["0", "1", "2", "3"]
    assert all(s[2]["X-API-Key"] == KEY and s[3] == b'{"x":1}' for s in t.sent)
    h.shutdown()


def test_http_layer_gives_up_after_max_retries(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(*[ResponseInfo(500, {}, b'{"detail":"x"}')] * 11)
    h = make(t, fake_clock)
    with pytest.raises(InternalServerError, match="Error code: 500"):
        run(h, h.post_json("/p", {}))
    assert len(t.sent) == 11
    assert fake_clock.sleeps == [0.5, 1, 2, 4, 8, 10, 10, 10, 10, 10]
    h.shutdown()


def test_x_should_retry_false_stops_at_once(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(ResponseInfo(503, {"x-should-retry": "false"}))
    h = make(t, fake_clock)
    with pytest.raises(InternalServerError):
        run(h, h.post_json("/p", {}))
    assert len(t.sent) == 1
    h.shutdown()


def test_holder_layer_new_key_each_attempt_and_budget(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(*[ResponseInfo(502)] * 40)
    h = make(t, fake_clock)
    h._reachable = True
    start = fake_clock.now
    with pytest.raises(InternalServerError):
        run(h, h.execute_with_retries(lambda: h.post_json("/p", {}, max_retries=0)))
    assert fake_clock.now - start == pytest.approx(300.0)
    assert fake_clock.sleeps[:6] == [1, 2, 4, 8, 16, 30]
    assert len({s[2]["X-Idempotency-Key"] for s in t.sent}) == len(t.sent)
    h.shutdown()


def test_holder_layer_does_not_retry_400(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(ResponseInfo(400, {}, b'{"detail":"bad"}'))
    h = make(t, fake_clock)
    with pytest.raises(BadRequestError):
        run(h, h.execute_with_retries(lambda: h.post_json("/p", {})))
    assert fake_clock.sleeps == []
    h.shutdown()


def test_holder_layer_billing_pause(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(ResponseInfo(402), ResponseInfo(402), ok())
    h = make(t, fake_clock)
    run(h, h.execute_with_retries(lambda: h.post_json("/p", {}, max_retries=0)))
    assert fake_clock.sleeps == [5.0, 5.0]
    h.shutdown()


def test_wait_future_drives_the_state_machine(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(
        ok(b'{"type": "try_again", "queue_state": "active"}'),
        APIConnectionError(RequestInfo("POST", "x")),
        ResponseInfo(504),
        ResponseInfo(200, {"content-type": "application/x-protobuf"}, b"\x08\x01"),
    )
    h = make(t, fake_clock)
    h._reachable = True
    done = run(h, h.wait_future("r-1", "Sample", True))
    assert done.proto == b"\x08\x01"
    # try-again answered at once: 0.05 s; connection error: 1 s; 504: 0.5 s (never a hot loop)
    assert fake_clock.sleeps == [0.05, 1.0, 0.5]
    assert all(s[4] == 45 and s[2]["Accept"] == "application/x-protobuf" for s in t.sent)
    assert [s[2]["X-Tinker-Request-Iteration"] for s in t.sent] == ["0", "1", "2", "3"]
    h.shutdown()


def test_startup_handshake_404_config_fails_and_dynamic_404_defaults(fake_clock: FakeClock) -> None:
    t = ScriptedTransport(ResponseInfo(404, {}, b'{"detail":"nope"}'))
    h = make(t, fake_clock)
    with pytest.raises(Exception, match="404"):
        run(h, h.ensure_started())
    h.shutdown()
    t2 = ScriptedTransport(ok(b'{"fwdbwd_max_chunk_len": 7}'), ResponseInfo(404), ok(b'{"session_id": "s-9"}'))
    h2 = make(t2, fake_clock)
    run(h2, h2.ensure_started())
    assert h2.client_config.fwdbwd_max_chunk_len == 7 and h2.session_id == "s-9"
    assert h2.dynamic_config.refresh_interval_sec == 300
    assert [s[1].rsplit("/", 1)[-1] for s in t2.sent] == ["config", "dynamic_config", "create_session"]
    h2.shutdown()
