"""``tinker.types.forward_backward_output`` of the official SDK, at the same import path."""

from __future__ import annotations

from .outputs import ForwardBackwardOutput as ForwardBackwardOutput

__all__ = ["ForwardBackwardOutput"]
