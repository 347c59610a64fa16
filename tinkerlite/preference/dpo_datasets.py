"""Labelled comparisons → interleaved (chosen, rejected) datum pairs for DPO.

Each pair is rendered once up front, so a row that breaks the renderer, loses every trained token to
``max_length`` truncation, or renders chosen and rejected to the same tokens is reported with its
``file:line`` before any request is sent. Weights use ``reduction="none"``: DPO compares token-sum
sequence log-probabilities, and normalising per sequence would add a length bias.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..supervised.common import datum_from_model_input_weights
from ..supervised.data import DataFormatError
from ..supervised.types import ChatDatasetBuilder, SupervisedDataset
from ..types import Datum
from ..utils.config import configclass
from .comparisons import LocatedComparison, read_comparison_file
from .preference_datasets import ComparisonDatasetBuilder
from .types import TIE_POLICIES, LabeledComparison, TiePolicy, chosen_and_rejected

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Renderer, TrainOnWhat

__all__ = [
    "ComparisonFileBuilder",
    "DPODatasetBuilderFromComparisons",
    "DPOPairDataset",
    "PairStats",
    "comparison_to_datum_pair",
    "comparisons_to_pairs",
]

logger = logging.getLogger(__name__)

ComparisonSource = Callable[[], tuple[Sequence[LocatedComparison | LabeledComparison], Sequence[Any] | None]]


def _trained(d: Datum) -> int:
    return sum(1 for w in d.loss_fn_inputs["weights"].dense_flat() if w > 0)


def comparison_to_datum_pair(
    lc: LabeledComparison,
    renderer: Renderer,
    max_length: int | None,
    tie_policy: TiePolicy = "skip",
    train_on_what: TrainOnWhat | str | None = None,
) -> tuple[Datum, Datum] | None:
    """(chosen, rejected) datums, or ``None`` for a skipped tie."""
    from ..renderers import TrainOnWhat

    picked = chosen_and_rejected(lc, tie_policy)
    if picked is None:
        return None
    tow = TrainOnWhat(train_on_what) if train_on_what else TrainOnWhat.LAST_ASSISTANT_MESSAGE
    prompt = list(lc.comparison.prompt_conversation)
    out = []
    for name, completion in zip(("chosen", "rejected"), picked, strict=True):
        model_input, weights = renderer.build_supervised_example([*prompt, *completion], tow)
        datum = datum_from_model_input_weights(model_input, weights, max_length, reduction="none")
        if _trained(datum) == 0:
            raise ValidationError(
                f"the {name} completion has no trained token"
                + (f" within max_length={max_length}" if max_length is not None else ""),
                field=name,
            )
        out.append(datum)
    chosen, rejected = out
    if chosen.model_input.to_ints() == rejected.model_input.to_ints() and (
        chosen.loss_fn_inputs["target_tokens"].dense_flat() == rejected.loss_fn_inputs["target_tokens"].dense_flat()
    ):
        raise ValidationError(
            "chosen and rejected render to identical tokens"
            + (f" (they differ only past max_length={max_length})" if max_length is not None else ""),
            field="comparison",
        )
    return chosen, rejected


@dataclass
class PairStats:
    num_rows: int = 0
    num_pairs: int = 0
    num_ties_skipped: int = 0


def comparisons_to_pairs(
    items: Sequence[LocatedComparison | LabeledComparison],
    renderer: Renderer,
    max_length: int | None,
    tie_policy: TiePolicy = "skip",
    train_on_what: TrainOnWhat | str | None = None,
) -> tuple[list[tuple[Datum, Datum]], PairStats]:
    if tie_policy not in TIE_POLICIES:
        raise ValidationError(f"must be one of {', '.join(TIE_POLICIES)}; got {tie_policy!r}", field="tie_policy")
    pairs: list[tuple[Datum, Datum]] = []
    stats = PairStats()
    for i, item in enumerate(items):
        lc = item.labeled if isinstance(item, LocatedComparison) else item
        stats.num_rows += 1
        try:
            pair = comparison_to_datum_pair(lc, renderer, max_length, tie_policy, train_on_what)
        except ValidationError as e:
            if isinstance(item, LocatedComparison):
                raise DataFormatError(str(e), path=item.path, line=item.line) from None
            raise ValidationError(f"comparison {i}: {e}", field="comparisons") from None
        if pair is None:
            stats.num_ties_skipped += 1
        else:
            pairs.append(pair)
    if stats.num_ties_skipped:
        logger.info("skipped %d tie(s) (tie_policy='skip')", stats.num_ties_skipped)
    stats.num_pairs = len(pairs)
    return pairs, stats


class DPOPairDataset(SupervisedDataset):
    """``batch_size`` pairs per batch, returned interleaved ``[c0, r0, c1, r1, ...]`` as the cookbook does."""

    def __init__(self, pairs: Sequence[tuple[Datum, Datum]], batch_size: int, stats: PairStats | None = None) -> None:
        if batch_size <= 0:
            raise ValidationError(f"must be positive, got {batch_size}", field="batch_size")
        self.pairs = list(pairs)
        self.batch_size = batch_size
        self.stats = stats or PairStats(len(self.pairs), len(self.pairs), 0)
        self._order = list(range(len(self.pairs)))

    def __len__(self) -> int:
        return len(self.pairs) // self.batch_size

    def set_epoch(self, seed: int = 0) -> None:
        self._order = list(range(len(self.pairs)))
        random.Random(seed).shuffle(self._order)

    def get_batch(self, index: int) -> list[Datum]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        out: list[Datum] = []
        for i in self._order[index * self.batch_size : (index + 1) * self.batch_size]:
            out.extend(self.pairs[i])
        return out

    def all_data(self) -> list[Datum]:
        return [d for pair in self.pairs for d in pair]


@configclass
class ComparisonFileBuilder:
    """Comparisons from JSONL: ``test_path`` if given, else the first ``test_size`` rows after a seeded shuffle."""

    train_path: str
    test_path: str | None = None
    test_size: int = 0
    shuffle_seed: int = 0

    def __call__(self) -> tuple[list[LocatedComparison], list[LocatedComparison] | None]:
        train = read_comparison_file(self.train_path)
        if self.test_path:
            return train, read_comparison_file(self.test_path)
        if self.test_size <= 0:
            return train, None
        if self.test_size >= len(train):
            raise DataFormatError(
                f"test_size={self.test_size} leaves no training rows ({len(train)} rows)", path=self.train_path, line=0
            )
        order = list(range(len(train)))
        random.Random(self.shuffle_seed).shuffle(order)
        return [train[i] for i in order[self.test_size :]], [train[i] for i in order[: self.test_size]]


@configclass
class DPODatasetBuilderFromComparisons(ChatDatasetBuilder):
    """``(train, test | None)`` :class:`DPOPairDataset` s; the test set is one batch of all its pairs."""

    comparison_builder: ComparisonDatasetBuilder | ComparisonSource
    """The cookbook's :class:`ComparisonDatasetBuilder`, or any zero-argument callable of (train, test) items."""
    tie_policy: TiePolicy = "as_b"
    """A ``Tie`` row: ``as_b`` trains B as chosen (the cookbook's behaviour), ``skip`` drops and counts it,
    ``error`` refuses it (tinkerlite's DPO CLI defaults to ``skip``)."""

    def __call__(self) -> tuple[DPOPairDataset, DPOPairDataset | None]:
        source = self.comparison_builder
        train_items: Sequence[LocatedComparison | LabeledComparison]
        test_items: Sequence[Any] | None
        if isinstance(source, ComparisonDatasetBuilder):
            train_items, test_items = source.get_labeled_comparisons()
        else:
            train_items, test_items = source()
        renderer = self.renderer
        cc = self.common_config
        pairs, stats = comparisons_to_pairs(train_items, renderer, cc.max_length, self.tie_policy, cc.train_on_what)
        train = DPOPairDataset(pairs, cc.batch_size, stats)
        if len(train) == 0:
            raise ValidationError(
                f"{len(pairs)} training pairs make no full batch of {cc.batch_size}", field="batch_size"
            )
        test = None
        if test_items:
            tpairs, tstats = comparisons_to_pairs(
                test_items, renderer, cc.max_length, self.tie_policy, cc.train_on_what
            )
            if tpairs:
                test = DPOPairDataset(tpairs, len(tpairs), tstats)
        return train, test
