"""``tinker.types.loss_fn_output`` of the official SDK, at the same import path."""

from __future__ import annotations

from .datum import LossFnOutput as LossFnOutput

__all__ = ["LossFnOutput"]
