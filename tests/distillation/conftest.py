"""Fixtures for these tests: ``backend`` (each installed compute backend in turn)."""

from __future__ import annotations

from tests.backend_fixture import backend

__all__ = ["backend"]
