"""``tinker.types.sampled_sequence`` of the official SDK, at the same import path."""

from __future__ import annotations

from .outputs import SampledSequence as SampledSequence

__all__ = ["SampledSequence"]
