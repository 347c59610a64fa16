"""Multi-domain RL batches (the cookbook's ``rl.interleaved``): several RL datasets blended by weight.

Every batch holds ``groups_per_batch`` env groups, each drawn from one source with probability proportional
to its weight, so no group mixes domains (GRPO centres rewards within a group). Within a source, groups
are taken in a per-pass shuffled order (:func:`~tinkerlite.rl.dataset_utils.cycle_permutation`) and the
source cycles when exhausted. The whole schedule is fixed at construction from ``seed``, so a resumed run
sees the same batches. Without ``total_batches``, the run stops when the first source would be used up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence

from ..utils.config import configclass
from .dataset_utils import cycle_permutation
from .types import EnvGroupBuilder, RLDataset, RLDatasetBuilder

__all__ = ["InterleavedRLDatasetBuilder"]

logger = logging.getLogger(__name__)


def _group_counts(src: RLDataset, i: int) -> tuple[int, int]:
    """(groups per batch, total groups) of a source; every batch but the last must be full."""
    if len(src) == 0:
        raise ValueError(f"Source {i} has 0 batches — all sources must be non-empty")
    per_batch = len(src.get_batch(0))
    if per_batch == 0:
        raise ValueError(f"Source {i} returned 0 groups for batch 0 — all sources must produce at least 1 group")
    total = per_batch if len(src) == 1 else (len(src) - 1) * per_batch + len(src.get_batch(len(src) - 1))
    return per_batch, total


class _InterleavedRLDataset(RLDataset):
    """The dataset :class:`InterleavedRLDatasetBuilder` builds (not meant to be constructed directly)."""

    def __init__(
        self,
        sources: list[RLDataset],
        weights: list[float],
        groups_per_batch: int,
        total_batches: int | None = None,
        seed: int = 0,
    ) -> None:
        if len(sources) != len(weights):
            raise ValueError(
                f"sources and weights must have the same length, got {len(sources)} sources and {len(weights)} weights"
            )
        if not sources:
            raise ValueError("At least one source is required")
        if any(w <= 0 for w in weights):
            raise ValueError(f"All weights must be positive, got {weights}")
        if groups_per_batch < 1:
            raise ValueError(f"groups_per_batch must be >= 1, got {groups_per_batch}")
        self._sources = sources
        self._groups_per_batch = groups_per_batch
        self._seed = seed
        self._weights = [w / sum(weights) for w in weights]
        counts = [_group_counts(s, i) for i, s in enumerate(sources)]
        self._per_batch = [c[0] for c in counts]
        self._totals = [c[1] for c in counts]
        if total_batches is None:
            total_batches = max(
                1, min(int(t / (w * groups_per_batch)) for t, w in zip(self._totals, self._weights, strict=True))
            )
            logger.info("InterleavedRLDataset: total_batches not set; first source exhausted after %d", total_batches)
        self._total_batches = total_batches
        self._schedule = self._build_schedule()

    def _order(self, src: int, cycle: int) -> Sequence[int]:
        return cycle_permutation(self._totals[src], f"{self._seed}:{src}", cycle)

    def _build_schedule(self) -> list[list[tuple[int, int]]]:
        rng = random.Random(self._seed)
        n = len(self._sources)
        cycle, pos = [0] * n, [0] * n
        orders = [self._order(i, 0) for i in range(n)]
        schedule = []
        for _ in range(self._total_batches):
            batch = []
            for _ in range(self._groups_per_batch):
                s = rng.choices(range(n), weights=self._weights, k=1)[0]
                if pos[s] >= self._totals[s]:
                    cycle[s] += 1
                    orders[s], pos[s] = self._order(s, cycle[s]), 0
                batch.append((s, orders[s][pos[s]]))
                pos[s] += 1
            schedule.append(batch)
        return schedule

    def _group(self, src: int, flat: int) -> EnvGroupBuilder:
        b, k = divmod(flat, self._per_batch[src])
        groups = self._sources[src].get_batch(b)
        if k >= len(groups):
            raise IndexError(
                f"Source {src} batch {b} has {len(groups)} groups, expected {self._per_batch[src]} (based on batch "
                "0); every batch but the last must have as many groups as batch 0"
            )
        return groups[k]

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < self._total_batches:
            raise IndexError(f"Batch index {index} out of range (total_batches={self._total_batches})")
        return [self._group(s, f) for s, f in self._schedule[index]]

    def __len__(self) -> int:
        return self._total_batches


@configclass
class InterleavedRLDatasetBuilder(RLDatasetBuilder):
    """Blend the train splits of ``sources`` by ``weights`` (test splits are not used; no test set)."""

    sources: list[RLDatasetBuilder]
    weights: list[float]
    groups_per_batch: int
    total_batches: int | None = None
    seed: int = 0

    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        built = await asyncio.gather(*(source() for source in self.sources))
        train = [tr for tr, _ in built]
        for i, ds in enumerate(train):
            logger.info(
                "Source %d (%s): %d batches, weight=%s", i, type(self.sources[i]).__name__, len(ds), self.weights[i]
            )
        return _InterleavedRLDataset(
            train, list(self.weights), self.groups_per_batch, self.total_batches, self.seed
        ), None
