from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite.local


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with tinkerlite.local.serve(long_poll_s=5.0) as url:
        yield url
