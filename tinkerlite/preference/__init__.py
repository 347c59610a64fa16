"""Preference learning: comparison data, and DPO with a closed-form gradient instead of torch autograd."""

from .preference_datasets import ComparisonDatasetBuilder
from .types import Comparison, LabeledComparison

__all__ = ["Comparison", "ComparisonDatasetBuilder", "LabeledComparison"]
