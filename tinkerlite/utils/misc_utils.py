"""The cookbook's small helpers (``tinker_cookbook.utils.misc_utils``), on the standard library only.

``split_list`` reproduces ``numpy.linspace(0, n, k + 1).astype(int)`` edges exactly (float step, last
edge pinned to ``n``), so a list splits into the same pieces as under the cookbook.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

__all__ = [
    "all_same",
    "concat_lists",
    "dict_mean",
    "iteration_dir",
    "lookup_func",
    "not_none",
    "safezip",
    "split_list",
    "timed",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")


@contextmanager
def timed(key: str, metrics: dict[str, Any]) -> Iterator[None]:
    """Log the block's start and duration, and store its seconds in ``metrics[f"time/{key}"]``."""
    logger.info(f"Starting {key}")
    tstart = time.time()
    yield
    logger.info(f"{key} took {time.time() - tstart:.2f} seconds")
    metrics[f"time/{key}"] = time.time() - tstart


def _safezip(*args: Any, **kwargs: Any) -> Any:
    return zip(*args, **kwargs, strict=True)


#: ``zip`` that raises ``ValueError`` when the iterables' lengths differ.
safezip = cast("type[zip[Any]]", _safezip)


def dict_mean(list_of_dicts: Sequence[Mapping[str, float | int | None]]) -> dict[str, float]:
    """Per-key mean over the dicts that have the key; ``None`` counts as missing, all-``None`` keys drop."""
    key2values: dict[str, list[float | int]] = {}
    for d in list_of_dicts:
        for k, v in d.items():
            if v is None:
                continue
            key2values.setdefault(k, []).append(v)
    return {k: float(sum(vs) / len(vs)) for k, vs in key2values.items() if vs}


def all_same(xs: list[Any]) -> bool:
    """True when every element equals the first (and for an empty list)."""
    return all(x == xs[0] for x in xs)


def lookup_func(path_to_func: str, default_module: str | None = None) -> Any:
    """The attribute named by ``"module.path:name"``, or by a bare ``"name"`` in ``default_module``."""
    colon_count = path_to_func.count(":")
    if colon_count == 0 and default_module is not None:
        module_name, func_name = default_module, path_to_func
    elif colon_count == 1:
        module_name, func_name = path_to_func.rsplit(":", 1)
    else:
        raise ValueError(f"Invalid path: {path_to_func}")
    return getattr(importlib.import_module(module_name), func_name)


def split_list(lst: Sequence[T], num_splits: int) -> list[list[T]]:
    """``num_splits`` contiguous pieces whose sizes differ by at most one (the cookbook's edges)."""
    if num_splits <= 0:
        raise ValueError(f"num_splits must be positive, got {num_splits}")
    if num_splits > len(lst):
        raise ValueError(f"Cannot split list of length {len(lst)} into {num_splits} parts")
    step = len(lst) / num_splits
    edges = [int(i * step) for i in range(num_splits)] + [len(lst)]
    return [list(lst[edges[i] : edges[i + 1]]) for i in range(num_splits)]


def concat_lists(list_of_lists: list[list[Any]]) -> list[Any]:
    """Flatten one level."""
    return [item for sublist in list_of_lists for item in sublist]


def not_none(x: T | None) -> T:
    """``x``, asserted not ``None`` (narrows the type)."""
    assert x is not None, f"{x=} must not be None"
    return x


def iteration_dir(log_path: str | Path | None, step: int) -> Path | None:
    """``log_path/iteration_NNNNNN`` for one training step, or ``None`` without a log path."""
    if not log_path:
        return None
    return Path(log_path) / f"iteration_{step:06d}"
