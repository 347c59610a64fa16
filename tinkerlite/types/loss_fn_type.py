"""``tinker.types.loss_fn_type`` of the official SDK, at the same import path."""

from __future__ import annotations

from .params import LossFnType as LossFnType

__all__ = ["LossFnType"]
