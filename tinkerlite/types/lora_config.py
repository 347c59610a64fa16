"""``tinker.types.lora_config`` of the official SDK, at the same import path."""

from __future__ import annotations

from .params import LoraConfig as LoraConfig

__all__ = ["LoraConfig"]
