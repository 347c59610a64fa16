from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import FakeClock
from .recording_server import RecordingServer


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as srv:
        yield srv
