"""Persistent stores for evaluation runs (the cookbook's ``stores``; local directories only)."""

from .eval_store import EvalStore, RunMetadata

__all__ = ["EvalStore", "RunMetadata"]
