"""Multi-epoch RL datasets (the cookbook's ``rl.dataset_utils``): cycle a dataset, reshuffled per epoch.

Permutations are seeded by ``"{seed}:{cycle}"`` strings, so every epoch's batch order is reproducible
across processes and restarts, and a resumed run sees the same order.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

from .types import EnvGroupBuilder, RLDataset

__all__ = ["EpochCycledRLDataset", "cycle_permutation", "epoch_batch_index"]


@functools.lru_cache(maxsize=64)
def _permutation(size: int, seed: str, cycle: int) -> tuple[int, ...]:
    perm = list(range(size))
    random.Random(f"{seed}:{cycle}").shuffle(perm)
    return tuple(perm)


def cycle_permutation(size: int, seed: int | str, cycle: int) -> Sequence[int]:
    """The order of ``range(size)`` in pass ``cycle`` (deterministic in ``seed`` and ``cycle``)."""
    return _permutation(size, str(seed), cycle)


def epoch_batch_index(index: int, num_batches: int, shuffle_seed: int | None = None) -> int:
    """Which inner batch global batch ``index`` reads: in order, or shuffled per epoch with a seed."""
    epoch, pos = divmod(index, num_batches)
    if shuffle_seed is not None:
        pos = cycle_permutation(num_batches, shuffle_seed, epoch)[pos]
    return pos


class EpochCycledRLDataset(RLDataset):
    """``inner`` repeated ``num_epochs`` times (``len = len(inner) * num_epochs``)."""

    def __init__(self, inner: RLDataset, num_epochs: int, shuffle_seed: int | None = None) -> None:
        if num_epochs < 1:
            raise ValueError(f"num_epochs must be >= 1, got {num_epochs}")
        self.inner = inner
        self.num_epochs = num_epochs
        self.shuffle_seed = shuffle_seed

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range (len={len(self)})")
        return self.inner.get_batch(epoch_batch_index(index, len(self.inner), self.shuffle_seed))

    def __len__(self) -> int:
        return len(self.inner) * self.num_epochs
