"""Held-out NLL (and bits per byte), as the cookbook's ``supervised.nll_evaluator``.

:class:`SamplerNLLEvaluator` scores a fixed set of datums on a sampling snapshot (``compute_logprobs``, all
datums in flight together); it is what the supervised loop uses for its test split, as the cookbook's does.
:class:`NLLEvaluator` does the same with a training-client forward pass; the cookbook deprecates it (a
forward pass on the training client takes a slot in the training queue), so calling it warns as there.
Both report through one function, so their numbers agree to float32 rounding.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from typing import Any

from ..eval.evaluators import SamplingClientEvaluator, TrainingClientEvaluator
from ..tokenizers.base import Tokenizer
from ..types import Datum, TensorData
from ..utils.deprecation import warn_deprecated
from .common import compute_bpb, compute_mean_nll
from .types import SupervisedDataset

__all__ = ["NLLEvaluator", "SamplerNLLEvaluator"]


def _all_data(dataset: SupervisedDataset) -> list[Datum]:
    return list(itertools.chain.from_iterable(dataset.get_batch(i) for i in range(len(dataset))))


def _compute_nll_metrics(
    logprobs_list: list[Any], data: list[Datum], name: str, tokenizer: Tokenizer | None
) -> dict[str, float]:
    """``{name}/nll`` (weighted mean NLL), and ``{name}/bpb`` when a tokenizer is given and targets exist."""
    weights = [d.loss_fn_inputs["weights"] for d in data]
    metrics = {f"{name}/nll": compute_mean_nll(logprobs_list, weights)}
    if tokenizer is not None and data and "target_tokens" in data[0].loss_fn_inputs:
        targets = [d.loss_fn_inputs["target_tokens"] for d in data]
        metrics[f"{name}/bpb"] = compute_bpb(logprobs_list, weights, targets, tokenizer)
    return metrics


class SamplerNLLEvaluator(SamplingClientEvaluator):
    """Mean NLL of held-out datums under a sampling client (``{name}/nll``, ``{name}/bpb`` with a tokenizer).

    Each datum needs ``target_tokens`` and ``weights`` (what the supervised data helpers build).
    """

    def __init__(self, data: list[Datum], name: str = "test", tokenizer: Tokenizer | None = None) -> None:
        self.data = data
        self.name = name
        self.tokenizer = tokenizer

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        """Score every datum concurrently; return the NLL (and BPB)."""
        logprobs = await asyncio.gather(*[self._compute_logprobs(sampling_client, d) for d in self.data])
        return _compute_nll_metrics(list(logprobs), self.data, self.name, self.tokenizer)

    @staticmethod
    async def _compute_logprobs(sampling_client: Any, datum: Datum) -> TensorData:
        """Log-probs of one datum's targets: the sampler scores the full (unshifted) sequence, whose first
        position has no log-prob, so the datum's input plus its last target is scored and that one dropped."""
        targets = datum.loss_fn_inputs["target_tokens"].dense_flat()
        full_sequence = datum.model_input.append_int(int(targets[-1]))
        scored = sampling_client.compute_logprobs(full_sequence)
        if inspect.isawaitable(scored):
            scored = await scored
        return TensorData.from_list([float("nan") if v is None else float(v) for v in scored[1:]], "float32")

    @classmethod
    def from_dataset(
        cls, dataset: SupervisedDataset, name: str = "test", tokenizer: Tokenizer | None = None
    ) -> SamplerNLLEvaluator:
        """An evaluator over every batch of ``dataset``."""
        return cls(_all_data(dataset), name=name, tokenizer=tokenizer)


class NLLEvaluator(TrainingClientEvaluator):
    """Mean NLL of held-out datums with a training-client forward pass (deprecated in the cookbook: use
    ``save_weights_and_get_sampling_client`` with :class:`SamplerNLLEvaluator`)."""

    def __init__(self, data: list[Datum], name: str = "test", tokenizer: Tokenizer | None = None) -> None:
        self.name = name
        self.data = data
        self.tokenizer = tokenizer

    @classmethod
    def from_dataset(
        cls, dataset: SupervisedDataset, name: str = "test", tokenizer: Tokenizer | None = None
    ) -> NLLEvaluator:
        return cls(_all_data(dataset), name=name, tokenizer=tokenizer)

    async def __call__(self, training_client: Any) -> dict[str, float]:
        warn_deprecated(
            name="NLLEvaluator",
            message="NLLEvaluator is deprecated. Prefer to create a sampling client with "
            "TrainingClient.save_weights_and_get_sampling_client() and SamplerNLLEvaluator instead",
        )
        future = training_client.forward(self.data, loss_fn="cross_entropy")
        result_async = getattr(future, "result_async", None)
        out = await result_async() if result_async is not None else await asyncio.to_thread(future.result)
        logprobs = [o["logprobs"] for o in out.loss_fn_outputs]
        return _compute_nll_metrics(logprobs, self.data, self.name, self.tokenizer)
