"""Forward-only supervised datasets over a stream of rows (the cookbook's ``StreamingSupervisedDatasetFromHFDataset``).

Given a HuggingFace ``IterableDataset`` (anything with ``shuffle(seed=, buffer_size=)`` and
``batch(batch_size=, drop_last_batch=)``) it behaves exactly as the cookbook's: shuffled through a buffer,
batched with the last partial batch dropped, ``set_epoch`` re-seeding the stream. Any other iterable of row
dicts (a generator function's output, a list, a JSONL reader) works too, shuffled through the same kind of
seeded buffer on the standard library, so ``datasets`` is needed only when you pass one of its datasets; it
is never imported here. The length is given, because streams do not know theirs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..exceptions import DataValidationError
from ..types import Datum
from .types import SupervisedDataset

__all__ = ["StreamingSupervisedDatasetFromHFDataset"]

Row = dict[str, Any]


def _is_hf_iterable(ds: Any) -> bool:
    return callable(getattr(ds, "shuffle", None)) and callable(getattr(ds, "batch", None))


def _buffer_shuffle(rows: Iterable[Row], seed: int, buffer_size: int) -> Iterator[Row]:
    """Reservoir-style shuffle buffer: fill ``buffer_size`` rows, then emit a random one per row read."""
    rng = random.Random(seed)
    buf: list[Row] = []
    for row in rows:
        if len(buf) < buffer_size:
            buf.append(row)
            continue
        i = rng.randrange(buffer_size)
        yield buf[i]
        buf[i] = row
    rng.shuffle(buf)
    yield from buf


def _batches(rows: Iterator[Row], batch_size: int) -> Iterator[list[Row]]:
    while True:
        batch = [row for _, row in zip(range(batch_size), rows, strict=False)]
        if len(batch) < batch_size:  # drop_last_batch, as the cookbook
            return
        yield batch


class StreamingSupervisedDatasetFromHFDataset(SupervisedDataset):
    """Batches of datums from a row stream; only forward ``get_batch`` indices (skips are consumed).

    ``rows`` is an HF ``IterableDataset`` or any re-iterable of row dicts; ``length`` is the number of
    rows (``len`` is ``length // batch_size``). Exactly one of ``map_fn`` (row -> datum) or
    ``flatmap_fn`` (row -> datums).
    """

    def __init__(
        self,
        hf_dataset: Any,
        batch_size: int,
        length: int,
        map_fn: Callable[[dict[str, Any]], Datum] | None = None,
        flatmap_fn: Callable[[dict[str, Any]], list[Datum]] | None = None,
        buffer_size: int = 10_000,
    ) -> None:
        if (map_fn is None) == (flatmap_fn is None):
            raise DataValidationError(
                "StreamingSupervisedDatasetFromHFDataset: give exactly one of map_fn or flatmap_fn"
            )
        for name, value in (("batch_size", batch_size), ("buffer_size", buffer_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise DataValidationError(f"StreamingSupervisedDatasetFromHFDataset: {name} must be a positive int")
        self.batch_size = batch_size
        self.length = length
        self.buffer_size = buffer_size
        self.map_fn = map_fn
        self.flatmap_fn = flatmap_fn
        self._source = hf_dataset
        self._hf = _is_hf_iterable(hf_dataset)
        if self._hf:
            self._shuffled = hf_dataset.shuffle(seed=0, buffer_size=buffer_size)
            self.hf_dataset = self._shuffled.batch(batch_size=batch_size, drop_last_batch=True)
        else:
            self.hf_dataset = hf_dataset
        self._epoch_seed = 0
        self._restart()

    def _restart(self) -> None:
        if self._hf:
            self.dataset_iterator: Iterator[Any] = iter(self.hf_dataset)
        else:
            shuffled = _buffer_shuffle(iter(self._source), self._epoch_seed, self.buffer_size)
            self.dataset_iterator = _batches(shuffled, self.batch_size)
        self.index = -1

    def _next_rows(self) -> list[Row]:
        try:
            batch = next(self.dataset_iterator)
        except StopIteration:
            raise IndexError(f"the stream ended before batch {self.index} (length={self.length})") from None
        if self._hf:  # HF batches are column dicts
            return [dict(zip(batch.keys(), values, strict=True)) for values in zip(*batch.values(), strict=True)]
        rows: list[Row] = batch
        return rows

    def get_batch(self, index: int) -> list[Datum]:
        if index < self.index + 1:
            raise DataValidationError(
                f"StreamingSupervisedDatasetFromHFDataset only supports forward iteration. "
                f"Cannot seek backward from batch {self.index} to {index}."
            )
        while self.index + 1 < index:
            self.index += 1
            self._next_rows()
        self.index = index
        rows = self._next_rows()
        if self.map_fn is not None:
            return [self.map_fn(row) for row in rows]
        assert self.flatmap_fn is not None
        return [datum for row in rows for datum in self.flatmap_fn(row)]

    def set_epoch(self, seed: int = 0) -> None:
        """Restart the stream, shuffled with ``seed``."""
        if self._hf:
            if callable(getattr(self.hf_dataset, "set_epoch", None)):
                self.hf_dataset.set_epoch(seed)
            else:  # a batch() that returned a one-shot iterator: re-batch the re-seeded stream
                if callable(getattr(self._shuffled, "set_epoch", None)):
                    self._shuffled.set_epoch(seed)
                self.hf_dataset = self._shuffled.batch(batch_size=self.batch_size, drop_last_batch=True)
        self._epoch_seed = seed
        self._restart()

    def __len__(self) -> int:
        return self.length // self.batch_size
