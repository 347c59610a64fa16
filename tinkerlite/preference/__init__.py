"""Preference learning: comparison data, and DPO with a closed-form gradient instead of torch autograd."""

from .types import Comparison, LabeledComparison

__all__ = ["Comparison", "LabeledComparison"]
