"""``tinker.types.topk_logprobs`` of the official SDK, at the same import path."""

from __future__ import annotations

from .outputs import TopkLogprobs as TopkLogprobs

__all__ = ["TopkLogprobs"]
