"""Comparison dataset builders (the cookbook's ``preference/preference_datasets.py``).

A :class:`ComparisonDatasetBuilder` loads raw rows (an HF ``datasets.Dataset``, or any sized, indexable
sequence of row dicts) and parses each into a :class:`~tinkerlite.preference.types.LabeledComparison`.
:class:`ChatDatasetBuilderFromComparisons` trains a preference (reward) model on them: each comparison is
rendered by :class:`~tinkerlite.preference.types.ComparisonRendererFromChatRenderer`, with the label as the
trained token; with ``swap`` both orders are emitted, otherwise a seeded coin flip picks one (debiasing).
:class:`ComparisonBuilderFromJsonl` reads JSONL files of ``{"comparison": {...}, "label": ...}`` with the
standard library (the cookbook uses ``blobfile`` + ``datasets``; here a ``datasets.Dataset`` is built only
when ``datasets`` is installed, else the rows stay a list).
"""

from __future__ import annotations

import json
import logging
import random
from typing import Any

from .._optional import try_import
from ..supervised.common import datum_from_model_input_weights
from ..supervised.data import SupervisedDatasetFromHFDataset, SupervisedDatasetFromList
from ..supervised.types import ChatDatasetBuilder, SupervisedDataset
from ..types import Datum
from ..utils.config import configclass
from .preference_models import ComparisonRenderer, ComparisonRendererFromChatRenderer
from .types import Comparison, LabeledComparison

__all__ = [
    "ChatDatasetBuilderFromComparisons",
    "ComparisonBuilderFromJsonl",
    "ComparisonDatasetBuilder",
]

logger = logging.getLogger(__name__)


@configclass
class ComparisonDatasetBuilder:
    """Loads raw train/test rows and parses rows into labeled comparisons; independent of rendering.

    Subclasses implement :meth:`get_train_and_test_datasets` and :meth:`example_to_labeled_comparison`.
    """

    swap: bool = False  # data augmentation: also emit each comparison with A and B swapped

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        raise NotImplementedError

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        """The row's comparison, or ``None`` to skip the row."""
        raise NotImplementedError

    def _parse_all(self, rows: Any) -> list[LabeledComparison]:
        parsed = (self.example_to_labeled_comparison(rows[i]) for i in range(len(rows)))
        return [lc for lc in parsed if lc is not None]

    def get_labeled_comparisons(self) -> tuple[list[LabeledComparison], list[LabeledComparison] | None]:
        train, test = self.get_train_and_test_datasets()
        return self._parse_all(train), (self._parse_all(test) if test is not None else None)


def _supervised(rows: Any, batch_size: int, flatmap: Any) -> SupervisedDataset:
    if isinstance(rows, (list, tuple)):
        return SupervisedDatasetFromList(rows, batch_size=batch_size, flatmap_fn=flatmap)
    return SupervisedDatasetFromHFDataset(rows, batch_size=batch_size, flatmap_fn=flatmap)


@configclass
class ChatDatasetBuilderFromComparisons(ChatDatasetBuilder):
    """Supervised data for a preference model: one datum per comparison (two with ``swap``)."""

    comparison_builder: ComparisonDatasetBuilder
    swap: bool = False

    @property
    def comparison_renderer(self) -> ComparisonRenderer:
        return ComparisonRendererFromChatRenderer(self.renderer)

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        train, test = self.comparison_builder.get_train_and_test_datasets()
        renderer = self.comparison_renderer
        rng = random.Random(0)
        max_length = self.common_config.max_length

        def to_datum(lc: LabeledComparison) -> Datum:
            model_input, weights = renderer.to_model_input_weights(lc)
            return datum_from_model_input_weights(model_input, weights, max_length, reduction="none")

        def example_to_data(example: dict[str, Any]) -> list[Datum]:
            lc = self.comparison_builder.example_to_labeled_comparison(example)
            if lc is None:
                return []
            if self.swap:
                return [to_datum(lc), to_datum(lc.swap())]
            if rng.random() < 0.5:
                lc = lc.swap()
            return [to_datum(lc)]

        test_ds = _supervised(test, len(test), example_to_data) if test is not None else None
        return _supervised(train, self.common_config.batch_size, example_to_data), test_ds


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _as_dataset(rows: list[dict[str, Any]]) -> Any:
    datasets = try_import("datasets")
    return datasets.Dataset.from_list(rows) if datasets is not None else rows


@configclass
class ComparisonBuilderFromJsonl(ComparisonDatasetBuilder):
    """Labeled comparisons from JSONL files (``{"comparison": {prompt_conversation, completion_A,
    completion_B}, "label": "A" | "B" | "Tie"}`` per line)."""

    train_path: str
    test_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        train = _as_dataset(_read_jsonl(self.train_path))
        test = _as_dataset(_read_jsonl(self.test_path)) if self.test_path else None
        return train, test

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        if "comparison" not in example or "label" not in example:
            return None
        c = example["comparison"]
        comparison = Comparison(
            prompt_conversation=c["prompt_conversation"], completion_A=c["completion_A"], completion_B=c["completion_B"]
        )
        return LabeledComparison(comparison=comparison, label=example["label"])
