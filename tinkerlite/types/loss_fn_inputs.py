"""``tinker.types.loss_fn_inputs`` of the official SDK, at the same import path."""

from __future__ import annotations

from .datum import LossFnInputs as LossFnInputs

__all__ = ["LossFnInputs"]
