"""``tinker.types.sampling_params`` of the official SDK, at the same import path."""

from __future__ import annotations

from .params import SamplingParams as SamplingParams

__all__ = ["SamplingParams"]
