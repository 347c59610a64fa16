"""``tinker.types.create_sampling_session_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import CreateSamplingSessionResponse as CreateSamplingSessionResponse

__all__ = ["CreateSamplingSessionResponse"]
