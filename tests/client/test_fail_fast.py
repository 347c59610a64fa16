"""Nothing listening at the base URL: a clear error within the fail-fast bound (default 25 s)."""

from __future__ import annotations

import socket
import time

import pytest

from tinkerlite._exceptions import APIConnectionError
from tinkerlite.client import ServiceClient

from .helpers import FakeClock
from .recording_server import API_KEY


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_default_bound_with_fake_clock(fake_clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{closed_port()}/prefix"
    sc = ServiceClient(base_url=url, api_key=API_KEY, _holder_options={"clock": fake_clock, "sleep": fake_clock.sleep})
    start = fake_clock.now
    with pytest.raises(APIConnectionError) as ei:
        sc.create_lora_training_client("m").result(timeout=30)
    waited = fake_clock.now - start
    assert 25.0 <= waited <= 30.0
    msg = str(ei.value)
    assert url in msg and "base_url argument" in msg
    assert "TINKERLITE_UNREACHABLE_TIMEOUT" in msg and "server is running" in msg
    sc.close()


def test_env_var_named_and_bound_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("TINKER_BASE_URL", url)
    sc = ServiceClient(api_key=API_KEY, unreachable_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(APIConnectionError) as ei:
        sc.create_sampling_client(base_model="m").result(timeout=30)
    assert time.monotonic() - t0 < 10
    assert "$TINKER_BASE_URL" in str(ei.value) and url in str(ei.value)
    assert API_KEY not in str(ei.value)
    sc.close()


def test_longer_bound_from_env(monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock) -> None:
    monkeypatch.setenv("TINKERLITE_UNREACHABLE_TIMEOUT", "120")
    sc = ServiceClient(
        base_url=f"http://127.0.0.1:{closed_port()}",
        api_key=API_KEY,
        _holder_options={"clock": fake_clock, "sleep": fake_clock.sleep},
    )
    start = fake_clock.now
    with pytest.raises(APIConnectionError):
        sc.create_lora_training_client("m").result(timeout=30)
    assert 120.0 <= fake_clock.now - start <= 125.0
    sc.close()


@pytest.mark.slow
def test_default_client_gives_up_within_30_real_seconds() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    sc = ServiceClient(base_url=url, api_key=API_KEY)
    t0 = time.monotonic()
    with pytest.raises(APIConnectionError, match="Cannot reach the Tinker API"):
        sc.create_lora_training_client("m").result(timeout=60)
    elapsed = time.monotonic() - t0
    assert 20 <= elapsed < 30
    sc.close()
