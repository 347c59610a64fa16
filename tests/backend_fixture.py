"""The ``backend`` fixture: a test runs once under each installed compute backend (pure always; numpy when
importable). A test directory's conftest imports it to offer it (distillation, preference, rl)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tinkerlite.backend import available_backends, get_backend, set_backend

__all__ = ["backend"]


@pytest.fixture(params=available_backends())
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under each installed backend (pure always; numpy when importable)."""
    before = get_backend().name
    set_backend(request.param)
    yield request.param
    set_backend(before)
