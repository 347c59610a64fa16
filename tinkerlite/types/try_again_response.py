"""``tinker.types.try_again_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from .records import TryAgainResponse as TryAgainResponse

__all__ = ["TryAgainResponse"]
