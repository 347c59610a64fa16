"""``tinker.types.get_sampler_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import GetSamplerResponse as GetSamplerResponse

__all__ = ["GetSamplerResponse"]
