"""Chat SFT datasets from the hub (Tulu 3, No Robots), or ``file_path=`` JSONL of ``{"messages": [...]}``.

Without ``datasets`` installed (and without ``file_path``) the builders read the bundled
``tiny_chat.jsonl`` so the recipe still runs offline.
"""

from __future__ import annotations

import logging
from typing import Any

from ...renderers import TrainOnWhat
from ...supervised.data import SupervisedDatasetFromHFDataset, conversation_to_datum
from ...supervised.types import ChatDatasetBuilder, SupervisedDataset
from ...types import Datum
from ...utils.config import configclass
from .._data import load_rows

__all__ = ["BUNDLED_CHAT", "NoRobotsBuilder", "Tulu3Builder", "chat_rows_to_datasets"]

logger = logging.getLogger(__name__)

BUNDLED_CHAT = "tiny_chat.jsonl"
_SHAPE = '{"messages": [{"role": ..., "content": ...}, ...]}'


def chat_rows_to_datasets(
    builder: ChatDatasetBuilder, train: Any, test: Any, default_train_on_what: TrainOnWhat
) -> tuple[SupervisedDataset, SupervisedDataset | None]:
    """Rows with a ``messages`` column -> (train, test) datasets rendered by ``builder``'s renderer."""
    cc = builder.common_config
    train_on_what = TrainOnWhat(cc.train_on_what) if cc.train_on_what else default_train_on_what
    renderer = builder.renderer

    def map_fn(row: dict[str, Any]) -> Datum:
        return conversation_to_datum(row["messages"], renderer, cc.max_length, train_on_what)

    train_ds = SupervisedDatasetFromHFDataset(train, batch_size=cc.batch_size, map_fn=map_fn)
    if test is None or len(test) == 0:
        return train_ds, None
    return train_ds, SupervisedDatasetFromHFDataset(test, batch_size=min(cc.batch_size, len(test)), map_fn=map_fn)


@configclass
class Tulu3Builder(ChatDatasetBuilder):
    """``allenai/tulu-3-sft-mixture``: 1024 rows held out for test; trains on the last assistant message."""

    file_path: str | None = None

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        rows = load_rows(
            "allenai/tulu-3-sft-mixture", "train", file_path=self.file_path, bundled=BUNDLED_CHAT, shape=_SHAPE
        ).shuffle(seed=0)
        n_test = min(1024, len(rows) // 8)
        return chat_rows_to_datasets(self, rows.skip(n_test), rows.take(n_test), TrainOnWhat.LAST_ASSISTANT_MESSAGE)


@configclass
class NoRobotsBuilder(ChatDatasetBuilder):
    """``HuggingFaceH4/no_robots`` train/test splits; trains on every assistant message."""

    file_path: str | None = None

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        kw: dict[str, Any] = {"file_path": self.file_path, "bundled": BUNDLED_CHAT, "shape": _SHAPE}
        train = load_rows("HuggingFaceH4/no_robots", "train", **kw).shuffle(seed=0)
        test = load_rows("HuggingFaceH4/no_robots", "test", **kw)
        return chat_rows_to_datasets(self, train, test, TrainOnWhat.ALL_ASSISTANT_MESSAGES)
