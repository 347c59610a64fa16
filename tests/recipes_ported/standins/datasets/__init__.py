"""A ``datasets`` stand-in for the ported-recipe tests: ``load_dataset`` serves small tables, offline.

The tests put this directory on ``PYTHONPATH`` so the cookbook's recipe files (and tinkerlite's recipe
modules, which use ``datasets`` when it is importable) load these tables instead of the HF hub. Each
table has the row shape of the hub dataset it stands for and content a tiny model can learn quickly
(from tinkerlite's bundled ``tiny_chat.jsonl`` and generated arithmetic).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["Dataset", "DatasetDict", "IterableDataset", "load_dataset"]


class Dataset:
    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = list(rows)

    @classmethod
    def from_list(cls, rows: list[dict[str, Any]]) -> Dataset:
        return cls(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return [r[key] for r in self._rows]
        if isinstance(key, slice):
            rows = self._rows[key]
            return {k: [r[k] for r in rows] for k in (rows[0] if rows else {})}
        return self._rows[key]

    @property
    def column_names(self) -> list[str]:
        return list(self._rows[0]) if self._rows else []

    def shuffle(self, seed: int | None = None, **_: Any) -> Dataset:
        rows = list(self._rows)
        random.Random(seed).shuffle(rows)
        return Dataset(rows)

    def select(self, indices: Iterable[int]) -> Dataset:
        return Dataset(self._rows[i] for i in indices)

    def take(self, n: int) -> Dataset:
        return Dataset(self._rows[:n])

    def skip(self, n: int) -> Dataset:
        return Dataset(self._rows[n:])

    def filter(self, fn: Callable[[dict[str, Any]], bool], **_: Any) -> Dataset:
        return Dataset(r for r in self._rows if fn(r))

    def map(self, fn: Callable[[dict[str, Any]], dict[str, Any]], **_: Any) -> Dataset:
        return Dataset({**r, **fn(r)} for r in self._rows)

    def to_list(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def iter(self, batch_size: int) -> Iterator[dict[str, list[Any]]]:
        for i in range(0, len(self._rows), batch_size):
            chunk = self._rows[i : i + batch_size]
            yield {k: [r[k] for r in chunk] for k in chunk[0]}


class IterableDataset:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def shuffle(self, seed: int | None = None, buffer_size: int = 1000, **_: Any) -> IterableDataset:
        rows = list(self._rows)
        random.Random(seed).shuffle(rows)
        return IterableDataset(rows)

    def take(self, n: int) -> IterableDataset:
        return IterableDataset(self._rows[:n])

    def skip(self, n: int) -> IterableDataset:
        return IterableDataset(self._rows[n:])

    def batch(self, batch_size: int, **_: Any) -> Iterator[dict[str, list[Any]]]:
        for i in range(0, len(self._rows), batch_size):
            chunk = self._rows[i : i + batch_size]
            yield {k: [r[k] for r in chunk] for k in chunk[0]}

    def set_epoch(self, epoch: int) -> None:
        pass


class DatasetDict(dict):  # type: ignore[type-arg]
    pass


def _chat_rows() -> list[dict[str, Any]]:
    import tinkerlite

    path = Path(tinkerlite.__file__).resolve().parents[1] / "examples" / "data" / "tiny_chat.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _split(rows: list[dict[str, Any]], n_test: int) -> dict[str, list[dict[str, Any]]]:
    return {"train": rows[:-n_test], "test": rows[-n_test:]}


def _tables(path: str, name: str | None) -> dict[str, list[dict[str, Any]]]:
    import tinkerlite

    chat = _chat_rows()
    if path in ("HuggingFaceH4/no_robots", "allenai/tulu-3-sft-mixture"):
        return _split(chat, 32)
    if path == "open-thoughts/OpenThoughts3-1.2M":
        conv = [
            {"conversations": [{"from": "human" if m["role"] == "user" else "gpt", "value": m["content"]}
                               for m in row["messages"] if m["role"] != "system"]}
            for row in chat
        ]
        return {"train": conv}
    if path == "openai/gsm8k":
        # Every sum is 7: a reward an RL step can visibly climb (the tiny model first learns the format).
        rows = [{"question": f"What is {a} plus {7 - a}?", "answer": f"{a} plus {7 - a} is 7.\n#### 7"}
                for a in [i % 8 for i in range(int(_env("STANDIN_GSM8K_ROWS", "96")))]]
        return _split(rows, max(1, min(16, len(rows) // 4)))
    if path == "Salesforce/wikitext":
        corpus = Path(tinkerlite.__file__).resolve().parents[1] / "examples" / "data" / "tiny_corpus.txt"
        return {"train": [{"text": line} for line in corpus.read_text().splitlines()]}
    if path == "zwhe99/DeepMath-103K":
        return {"train": [{"question": f"What is {a} plus {b}?", "final_answer": str(a + b)}
                          for a in range(10) for b in range(10)]}
    if path == "Anthropic/hh-rlhf":
        rows = []
        for row in chat:
            msgs = [m for m in row["messages"] if m["role"] != "system"]
            if len(msgs) != 2:
                continue
            q, a = msgs[0]["content"], msgs[1]["content"]
            rows.append({"chosen": f"\n\nHuman: {q}\n\nAssistant: {a}",
                         "rejected": f"\n\nHuman: {q}\n\nAssistant: {a.upper()}!!"})
        return _split(rows, 16)
    raise FileNotFoundError(f"datasets stand-in: no table for {path!r} (name={name!r})")


def _env(key: str, default: str) -> str:
    import os

    return os.environ.get(key, default)


def load_dataset(path: str, name: str | None = None, *, split: str | None = None, streaming: bool = False,
                 **_: Any) -> Any:
    tables = _tables(path, name)
    if split is not None:
        rows = tables[split]
        return IterableDataset(rows) if streaming else Dataset(rows)
    return DatasetDict({k: IterableDataset(v) if streaming else Dataset(v) for k, v in tables.items()})
