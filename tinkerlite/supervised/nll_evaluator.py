"""Held-out NLL (and bits per byte) with a forward pass: no weights change."""

from __future__ import annotations

import asyncio
from typing import Any

from ..eval.evaluators import TrainingClientEvaluator
from ..tokenizers.base import Tokenizer
from ..types import Datum
from .common import compute_bpb, compute_mean_nll
from .types import SupervisedDataset

__all__ = ["NLLEvaluator"]


class NLLEvaluator(TrainingClientEvaluator):
    def __init__(self, data: list[Datum], name: str = "test", tokenizer: Tokenizer | None = None) -> None:
        self.data = data
        self.name = name
        self.tokenizer = tokenizer

    @classmethod
    def from_dataset(
        cls, dataset: SupervisedDataset, name: str = "test", tokenizer: Tokenizer | None = None
    ) -> NLLEvaluator:
        data = [d for i in range(len(dataset)) for d in dataset.get_batch(i)]
        return cls(data, name, tokenizer)

    async def __call__(self, training_client: Any) -> dict[str, float]:
        future = training_client.forward(self.data, loss_fn="cross_entropy")
        result_async = getattr(future, "result_async", None)
        out = await result_async() if result_async is not None else await asyncio.to_thread(future.result)
        logprobs = [o["logprobs"] for o in out.loss_fn_outputs]
        weights = [d.loss_fn_inputs["weights"] for d in self.data]
        metrics = {f"{self.name}/nll": compute_mean_nll(logprobs, weights)}
        if self.tokenizer is not None:
            targets = [d.loss_fn_inputs["target_tokens"] for d in self.data]
            metrics[f"{self.name}/bpb"] = compute_bpb(logprobs, weights, targets, self.tokenizer)
        return metrics
