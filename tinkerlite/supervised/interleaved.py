"""SFT mixes of several HuggingFace datasets (the cookbook's ``HFDatasetSource`` / ``InterleavedChatDatasetBuilder``).

Rows are mixed with ``datasets.interleave_datasets`` by normalised source weights (by default each source's
size, so every original row is equally likely). ``test_size > 0`` first holds out unique original rows,
drawing the source of each held-out row by weight (uniformly over rows when no weights are given) while
keeping at least one training row per weighted source; impossible requests raise ``ValueError``. The holdout
draw uses Python's seeded ``random`` where the cookbook uses numpy's generator, so the same seed selects
different (equally distributed) rows. ``datasets`` is imported only when the builder is called.
"""

from __future__ import annotations

import logging
import math
import random
from typing import Any, Literal

from .._optional import require
from ..types import Datum
from ..utils.config import configclass
from .data import SupervisedDatasetFromHFDataset, conversation_to_datum
from .types import ChatDatasetBuilder, SupervisedDataset

__all__ = ["HFDatasetSource", "InterleavedChatDatasetBuilder"]

logger = logging.getLogger(__name__)


@configclass
class HFDatasetSource:
    """One HF dataset of the mix: ``load_dataset(path, name=name, split=split)``, messages in ``message_field``."""

    path: str
    name: str | None = None
    split: str = "train"
    weight: float | None = None
    message_field: str = "messages"


def _holdout_split(
    sources: list[Any], weights: list[float], test_size: int, seed: int, uniform_rows: bool
) -> tuple[list[Any], list[float], Any]:
    datasets = require("datasets", "InterleavedChatDatasetBuilder", extra="datasets")
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError("Source weights must be finite and non-negative for a holdout split")
    if not math.isfinite(sum(weights)) or sum(weights) <= 0:
        raise ValueError("Total weight across all sources must be finite and positive")
    for i, (ds, w) in enumerate(zip(sources, weights, strict=True)):
        if w > 0 and len(ds) == 0:
            raise ValueError(f"Cannot split empty positively weighted source at index {i}")
    capacity = [len(ds) - 1 if w > 0 else 0 for ds, w in zip(sources, weights, strict=True)]
    if test_size > sum(capacity):
        raise ValueError(
            f"test_size ({test_size}) exceeds the maximum unique holdout size ({sum(capacity)}) "
            "while retaining one training row per positively weighted source"
        )
    rng = random.Random(seed)
    remaining = [len(ds) for ds in sources]
    counts = [0] * len(sources)
    for _ in range(test_size):
        probs = [
            (remaining[i] if uniform_rows else weights[i]) if capacity[i] > 0 else 0.0 for i in range(len(sources))
        ]
        i = rng.choices(range(len(sources)), weights=probs)[0]
        counts[i] += 1
        capacity[i] -= 1
        remaining[i] -= 1
    train_sources, train_weights, held = [], [], []
    for ds, w, count in zip(sources, weights, counts, strict=True):
        if w == 0:
            continue
        shuffled = ds.shuffle(seed=rng.randrange(2**32))
        train = shuffled.skip(count)
        train_sources.append(train)
        train_weights.append(float(len(train)) if uniform_rows else w)
        if count > 0:
            held.append(shuffled.take(count))
    return train_sources, train_weights, datasets.concatenate_datasets(held).shuffle(seed=seed)


@configclass
class InterleavedChatDatasetBuilder(ChatDatasetBuilder):
    """Chat SFT data mixed from several HF datasets; see the module docstring for weights and holdout."""

    sources: list[HFDatasetSource]
    test_size: int = 0
    shuffle_seed: int = 0
    stopping_strategy: Literal["first_exhausted", "all_exhausted", "all_exhausted_without_replacement"] = (
        "all_exhausted"
    )

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        if not self.sources:
            raise ValueError("At least one dataset source must be provided")
        datasets = require("datasets", "InterleavedChatDatasetBuilder", extra="datasets")
        loaded: list[Any] = []
        for src in self.sources:
            ds = datasets.load_dataset(src.path, name=src.name, split=src.split)
            if not isinstance(ds, datasets.Dataset):
                raise TypeError(
                    f"Expected a Dataset but got {type(ds).__name__}. "
                    f"Check that split='{src.split}' is valid for '{src.path}'."
                )
            if src.message_field != "messages":
                ds = ds.rename_column(src.message_field, "messages")
            loaded.append(ds.select_columns(["messages"]))
            logger.info("Loaded '%s' (%d rows, weight=%s)", src.path, len(ds), src.weight)
        unweighted = all(s.weight is None for s in self.sources)
        if unweighted:
            weights = [float(len(ds)) for ds in loaded]
        elif any(s.weight is None for s in self.sources):
            raise ValueError(
                "Either all sources must have explicit weights or none of them. "
                "Got a mix of weighted and unweighted sources."
            )
        else:
            weights = [float(s.weight) for s in self.sources if s.weight is not None]
        test_ds = None
        if self.test_size > 0:
            loaded, weights, test_ds = _holdout_split(loaded, weights, self.test_size, self.shuffle_seed, unweighted)
        total = sum(weights)
        if total <= 0:
            raise ValueError("Total weight across all sources must be positive")
        mixed = datasets.interleave_datasets(
            loaded, probabilities=[w / total for w in weights], seed=self.shuffle_seed,
            stopping_strategy=self.stopping_strategy,
        )
        logger.info("Interleaved dataset: %d rows", len(mixed))
        from ..renderers import TrainOnWhat

        cc = self.common_config
        tow = TrainOnWhat(cc.train_on_what) if cc.train_on_what else TrainOnWhat.ALL_ASSISTANT_MESSAGES
        renderer = self.renderer

        def map_fn(row: dict[str, Any]) -> Datum:
            return conversation_to_datum(row["messages"], renderer, cc.max_length, tow)

        train = SupervisedDatasetFromHFDataset(mixed, batch_size=cc.batch_size, map_fn=map_fn)
        test = SupervisedDatasetFromHFDataset(test_ds, batch_size=len(test_ds), map_fn=map_fn) if test_ds else None
        return train, test
