"""``tinker.types.prompt_alt_tokens`` of the official SDK, at the same import path."""

from __future__ import annotations

from .outputs import PromptAltTokens as PromptAltTokens

__all__ = ["PromptAltTokens"]
