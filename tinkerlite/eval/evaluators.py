"""Evaluator kinds, as in the cookbook: one looks at the training client, one at a sampling snapshot.

``__call__`` is a coroutine, as in the cookbook. A subclass may still return the metrics directly;
every loop accepts both (:func:`resolve_metrics` from synchronous code).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "Evaluator",
    "EvaluatorBuilder",
    "SamplingClientEvaluator",
    "SamplingClientEvaluatorBuilder",
    "TrainingClientEvaluator",
    "resolve_metrics",
]


class TrainingClientEvaluator:
    """Metrics from the training client (e.g. held-out NLL with a forward pass)."""

    async def __call__(self, training_client: Any) -> dict[str, float]:
        raise NotImplementedError


class SamplingClientEvaluator:
    """Metrics from a sampling snapshot of the current weights (e.g. test-set rollouts)."""

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        raise NotImplementedError


Evaluator = TrainingClientEvaluator | SamplingClientEvaluator
EvaluatorBuilder = Callable[[], Evaluator]
SamplingClientEvaluatorBuilder = Callable[[], SamplingClientEvaluator]


def resolve_metrics(value: dict[str, float] | Awaitable[dict[str, float]]) -> dict[str, float]:
    """Run an awaitable result to completion from synchronous code (loops run off the event loop)."""
    if inspect.isawaitable(value):

        async def wait() -> dict[str, float]:
            return await value

        return asyncio.run(wait())
    return value
