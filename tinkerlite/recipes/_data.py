"""Where a recipe's rows come from: ``file_path=`` JSONL, the HF hub through ``datasets``, or a bundled file.

The cookbook loads its data with ``datasets.load_dataset``; tinkerlite does too when ``datasets`` is
installed, and otherwise (or when ``file_path=`` is given) reads JSONL into :class:`Rows`, a small
list-backed stand-in with the handful of ``datasets.Dataset`` methods the recipes use. A missing or
unreadable dataset is one :class:`DatasetUnavailableError` line naming the ``file_path=`` option.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterable, Iterator
from typing import Any

from .._optional import try_import
from ..errors import ValidationError

__all__ = ["DatasetUnavailableError", "Rows", "bundled_path", "load_rows", "read_jsonl"]

logger = logging.getLogger(__name__)


class DatasetUnavailableError(ValidationError):
    """The recipe's data could not be found or read; the message says which option supplies it."""


class Rows:
    """A list of dict rows with the ``datasets.Dataset`` methods recipes call (shuffle/select/take/skip)."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = list(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return [row[key] for row in self._rows]
        return self._rows[key]

    @property
    def column_names(self) -> list[str]:
        return list(self._rows[0]) if self._rows else []

    def shuffle(self, seed: int | None = None) -> Rows:
        rows = list(self._rows)
        random.Random(seed).shuffle(rows)
        return Rows(rows)

    def select(self, indices: Iterable[int]) -> Rows:
        return Rows(self._rows[i] for i in indices)

    def take(self, n: int) -> Rows:
        return Rows(self._rows[:n])

    def skip(self, n: int) -> Rows:
        return Rows(self._rows[n:])

    def filter(self, fn: Any) -> Rows:
        return Rows(r for r in self._rows if fn(r))

    def to_list(self) -> list[dict[str, Any]]:
        return list(self._rows)

    @classmethod
    def from_list(cls, rows: list[dict[str, Any]]) -> Rows:
        return cls(rows)


def read_jsonl(path: str | os.PathLike[str], option: str = "file_path") -> Rows:
    """Every line of ``path`` as a dict; a missing file or bad line raises one line naming ``option``."""
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise DatasetUnavailableError(f"no such file {p!r} (give a JSONL file)", field=option)
    rows: list[dict[str, Any]] = []
    with open(p, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetUnavailableError(f"{p}:{n}: not JSON ({e.msg})", field=option) from None
            if not isinstance(row, dict):
                raise DatasetUnavailableError(f"{p}:{n}: each line must be a JSON object", field=option)
            rows.append(row)
    if not rows:
        raise DatasetUnavailableError(f"{p} holds no rows", field=option)
    return Rows(rows)


def bundled_path(name: str) -> str:
    from .._resources import example_data_path

    return str(example_data_path(name))


def _split_bundled(rows: Rows, split: str | None) -> Rows:
    """Bundled files hold one table: ``test`` is its last eighth, ``train`` the rest."""
    if split is None:
        return rows
    n_test = max(1, len(rows) // 8)
    if split.startswith("test") or split.startswith("valid"):
        return rows.skip(len(rows) - n_test)
    return rows.take(len(rows) - n_test)


def load_rows(
    hub_name: str,
    split: str | None,
    *,
    config_name: str | None = None,
    file_path: str | None = None,
    bundled: str | None = None,
    option: str = "file_path",
    shape: str = "",
) -> Any:
    """Rows of one split: ``file_path`` when given, else ``datasets.load_dataset`` when installed, else
    the bundled file. ``shape`` (e.g. ``{"messages": [...]}``) goes into the error message."""
    if file_path:
        rows = read_jsonl(file_path, option)
        return rows if split is None or not split.startswith("test") else None
    hf = try_import("datasets")
    if hf is not None:
        try:
            args = [hub_name] if config_name is None else [hub_name, config_name]
            return hf.load_dataset(*args, split=split)
        except Exception as e:  # hub unreachable, dataset gated, split missing, ...
            if bundled is not None:
                logger.warning("cannot load %s with datasets (%s); using the bundled %s", hub_name, e, bundled)
            else:
                raise DatasetUnavailableError(
                    f"cannot load {hub_name!r} with datasets ({type(e).__name__}: {str(e)[:120]}); "
                    f"give {option}=<JSONL {shape}>".rstrip(),
                    field=option,
                ) from None
    if bundled is None:
        raise DatasetUnavailableError(
            f"{hub_name!r} needs the 'datasets' package or {option}=<JSONL {shape}>".rstrip(), field=option
        )
    return _split_bundled(read_jsonl(bundled_path(bundled), option), split)
