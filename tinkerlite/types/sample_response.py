"""``tinker.types.sample_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .outputs import SampleResponse as SampleResponse

__all__ = ["SampleResponse"]
