"""Shared helpers for the client tests: a fake clock and a client wired to the recording server."""

from __future__ import annotations

import asyncio
from typing import Any

from tinkerlite.client import ServiceClient

from .recording_server import API_KEY, RecordingServer


class FakeClock:
    """Monotonic time that only moves when the client sleeps; sleeps are recorded, not waited."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make_client(srv: RecordingServer, clock: FakeClock | None = None, **holder: Any) -> ServiceClient:
    opts: dict[str, Any] = {"heartbeat_period_s": 0, **holder}
    if clock is not None:
        opts.update(clock=clock, sleep=clock.sleep)
    return ServiceClient(base_url=srv.url, api_key=API_KEY, _holder_options=opts)
