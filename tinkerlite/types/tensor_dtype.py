"""``tinker.types.tensor_dtype`` of the official SDK, at the same import path."""

from __future__ import annotations

from .tensor_data import TensorDtype as TensorDtype

__all__ = ["TensorDtype"]
