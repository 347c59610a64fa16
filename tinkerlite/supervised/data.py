"""Chat datasets: JSONL conversation files (validated up front, streamed by byte offset) and HF datasets.

Every malformed row is reported as ``file:line: field: problem`` *before* anything is sent to a
server; a long training job should not die at batch 900 on a typo in row 57,000.
"""

from __future__ import annotations

import json
import logging
import os
import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..exceptions import DataFormatError as _CookbookDataFormatError
from ..types import Datum
from ..utils.config import configclass
from .common import Reduction, datum_from_model_input_weights
from .streaming import StreamingSupervisedDatasetFromHFDataset
from .types import ChatDatasetBuilder, SupervisedDataset

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Message, Renderer, TrainOnWhat

__all__ = [
    "ConversationFileDataset",
    "DataFormatError",
    "FromConversationFileBuilder",
    "StreamingSupervisedDatasetFromHFDataset",
    "SupervisedDatasetFromHFDataset",
    "SupervisedDatasetFromList",
    "conversation_to_datum",
    "index_conversation_file",
    "read_conversation_file",
    "validate_messages",
]

logger = logging.getLogger(__name__)

_CONTENT_PART_TYPES = {"text", "image", "thinking", "image_url"}


class DataFormatError(ValidationError, _CookbookDataFormatError):
    """A dataset row is malformed; ``path`` and ``line`` say where."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, field: str | None = None):
        self.path = path
        self.line = line
        where = f"{path}:{line}: " if path is not None and line is not None else ""
        super().__init__(f"{where}{message}" if not field else f"{where}{field}: {message}")
        self.field = field


def conversation_to_datum(
    conversation: list[Message],
    renderer: Renderer,
    max_length: int | None,
    train_on_what: TrainOnWhat | None = None,
    reduction: Reduction = "mean",
) -> Datum:
    """Render a conversation and turn it into a cross-entropy Datum (weights sum to 1 with "mean")."""
    from ..renderers import TrainOnWhat

    model_input, weights = renderer.build_supervised_example(
        conversation, train_on_what=train_on_what or TrainOnWhat.ALL_ASSISTANT_MESSAGES
    )
    return datum_from_model_input_weights(model_input, weights, max_length, reduction=reduction)


def validate_messages(messages: Any, *, path: str | None = None, line: int | None = None) -> list[Message]:
    """Check the OpenAI-style shape: a non-empty list of ``{"role": str, "content": str | [parts]}``."""

    def fail(msg: str, field: str) -> DataFormatError:
        return DataFormatError(msg, path=path, line=line, field=field)

    if not isinstance(messages, list):
        raise fail(f"must be a list of messages, got {type(messages).__name__}", "messages")
    if not messages:
        raise fail("is empty", "messages")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise fail(f"must be an object, got {type(m).__name__}", where)
        role = m.get("role")
        if not isinstance(role, str) or not role:
            raise fail("missing or non-string 'role'", f"{where}.role")
        if "content" not in m and not m.get("tool_calls"):
            raise fail("missing 'content'", f"{where}.content")
        content = m.get("content", "")
        if content is None:
            content = ""
        if isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") not in _CONTENT_PART_TYPES:
                    raise fail(
                        f"content parts must be objects with type in {sorted(_CONTENT_PART_TYPES)}",
                        f"{where}.content[{j}]",
                    )
        elif not isinstance(content, str):
            raise fail(f"must be a string or a list of parts, got {type(content).__name__}", f"{where}.content")
        calls = m.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise fail("must be a list", f"{where}.tool_calls")
    return messages


def _parse_line(raw: bytes, path: str, line: int) -> list[Message]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"not valid UTF-8 (byte {e.start})", path=path, line=line) from None
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataFormatError(f"invalid JSON: {e.msg} at column {e.colno}", path=path, line=line) from None
    if not isinstance(row, dict):
        raise DataFormatError(f"each line must be a JSON object, got {type(row).__name__}", path=path, line=line)
    if "messages" not in row:
        raise DataFormatError(f"missing 'messages' (keys: {sorted(row)})", path=path, line=line)
    return validate_messages(row["messages"], path=path, line=line)


@dataclass(frozen=True)
class ConversationIndex:
    """Byte offsets of the non-blank lines of a JSONL file: 8 bytes per row in memory."""

    path: str
    offsets: array  # type: ignore[type-arg]
    line_numbers: array  # type: ignore[type-arg]
    blank_lines: int


def index_conversation_file(path: str | os.PathLike[str], validate: bool = True) -> ConversationIndex:
    """One pass over the file: remember where each row starts, and (by default) validate it."""
    p = os.fspath(path)
    offsets, lines = array("q"), array("q")
    blank = 0
    try:
        f = open(p, "rb")
    except OSError as e:
        raise DataFormatError(f"cannot open dataset: {e.strerror}", path=p, line=0) from None
    with f:
        pos = 0
        for lineno, raw in enumerate(f, start=1):
            if raw.strip():
                if validate:
                    _parse_line(raw, p, lineno)
                offsets.append(pos)
                lines.append(lineno)
            else:
                blank += 1
            pos += len(raw)
    if not offsets:
        raise DataFormatError("dataset has no rows", path=p, line=0)
    if blank:
        logger.info("%s: skipped %d blank line(s)", p, blank)
    return ConversationIndex(p, offsets, lines, blank)


def read_conversation_file(path: str | os.PathLike[str]) -> Iterator[tuple[int, list[Message]]]:
    """Yield ``(line_number, messages)`` lazily; blank lines are skipped."""
    p = os.fspath(path)
    with open(p, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            if raw.strip():
                yield lineno, _parse_line(raw, p, lineno)


class _ShuffledBatches(SupervisedDataset):
    """Batch ``i`` = rows ``order[i*bs:(i+1)*bs]``; the remainder is dropped; epochs reshuffle by seed."""

    def __init__(self, n_rows: int, batch_size: int, shuffle: bool = True) -> None:
        if batch_size <= 0:
            raise ValidationError(f"batch_size must be positive, got {batch_size}", field="batch_size")
        self._n = n_rows
        self.batch_size = batch_size
        self._shuffle = shuffle
        self._order = list(range(n_rows))

    def __len__(self) -> int:
        return self._n // self.batch_size

    def set_epoch(self, seed: int = 0) -> None:
        self._order = list(range(self._n))
        if self._shuffle:
            random.Random(seed).shuffle(self._order)

    def _rows_for(self, index: int) -> list[int]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]


class SupervisedDatasetFromList(_ShuffledBatches):
    """In-memory rows mapped to Datums (``map_fn``) or lists of Datums (``flatmap_fn``)."""

    def __init__(
        self,
        rows: Sequence[Any],
        batch_size: int,
        map_fn: Callable[[Any], Datum] | None = None,
        flatmap_fn: Callable[[Any], list[Datum]] | None = None,
        shuffle: bool = True,
    ) -> None:
        if (map_fn is None) == (flatmap_fn is None):
            raise ValidationError("give exactly one of map_fn or flatmap_fn", field="SupervisedDatasetFromList")
        super().__init__(len(rows), batch_size, shuffle)
        self._rows = rows
        self._map, self._flatmap = map_fn, flatmap_fn

    def get_batch(self, index: int) -> list[Datum]:
        rows = [self._rows[i] for i in self._rows_for(index)]
        if self._map is not None:
            return [self._map(r) for r in rows]
        assert self._flatmap is not None
        return [d for r in rows for d in self._flatmap(r)]


class ConversationFileDataset(_ShuffledBatches):
    """Rows read from disk on demand by byte offset, so files larger than memory train fine."""

    def __init__(
        self,
        index: ConversationIndex,
        rows: Sequence[int],
        batch_size: int,
        to_datum: Callable[[list[Message]], Datum],
        shuffle: bool = True,
    ) -> None:
        super().__init__(len(rows), batch_size, shuffle)
        self._index = index
        self._rows = array("q", rows)
        self._to_datum = to_datum

    def read_row(self, row: int) -> tuple[int, list[Message]]:
        i = self._rows[row]
        line = int(self._index.line_numbers[i])
        with open(self._index.path, "rb") as f:
            f.seek(self._index.offsets[i])
            return line, _parse_line(f.readline(), self._index.path, line)

    def get_batch(self, index: int) -> list[Datum]:
        out = []
        for r in self._rows_for(index):
            line, messages = self.read_row(r)
            try:
                out.append(self._to_datum(messages))
            except ValidationError as e:
                raise DataFormatError(str(e), path=self._index.path, line=line) from None
        return out


class SupervisedDatasetFromHFDataset(_ShuffledBatches):
    """Wraps a ``datasets.Dataset`` (duck-typed: ``len``, ``select``, ``shuffle``, ``to_list``)."""

    def __init__(
        self,
        hf_dataset: Any,
        batch_size: int,
        map_fn: Callable[[dict[str, Any]], Datum] | None = None,
        flatmap_fn: Callable[[dict[str, Any]], list[Datum]] | None = None,
    ) -> None:
        if (map_fn is None) == (flatmap_fn is None):
            raise ValidationError("give exactly one of map_fn or flatmap_fn", field="SupervisedDatasetFromHFDataset")
        super().__init__(len(hf_dataset), batch_size, shuffle=False)
        self.hf_dataset = hf_dataset
        self._shuffled = hf_dataset
        self._map, self._flatmap = map_fn, flatmap_fn

    def set_epoch(self, seed: int = 0) -> None:
        self._shuffled = self.hf_dataset.shuffle(seed=seed)

    def get_batch(self, index: int) -> list[Datum]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        rows = self._shuffled.select(range(index * self.batch_size, (index + 1) * self.batch_size)).to_list()
        if self._map is not None:
            return [self._map(r) for r in rows]
        assert self._flatmap is not None
        return [d for r in rows for d in self._flatmap(r)]


@configclass
class FromConversationFileBuilder(ChatDatasetBuilder):
    """JSONL of ``{"messages": [...]}``: shuffled with ``shuffle_seed``, first ``test_size`` rows held out.

    With ``prevalidate`` (default), every row is also rendered once up front so an unknown role or a
    bad tool call is reported with its line number before training starts. Rows longer than
    ``max_length`` are truncated from the right (cookbook semantics); their count is logged.
    """

    file_path: str
    test_size: int = 0
    shuffle_seed: int | None = 0
    prevalidate: bool = True
    reduction: Reduction = "mean"

    def _to_datum_fn(self) -> Callable[[list[Message]], Datum]:
        renderer = self.renderer
        cc = self.common_config
        from ..renderers import TrainOnWhat

        tow = TrainOnWhat(cc.train_on_what) if cc.train_on_what else TrainOnWhat.ALL_ASSISTANT_MESSAGES

        def to_datum(messages: list[Message]) -> Datum:
            return conversation_to_datum(messages, renderer, cc.max_length, tow, self.reduction)

        return to_datum

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        if not self.file_path:
            raise ValidationError("file_path is required", field="FromConversationFileBuilder.file_path")
        index = index_conversation_file(self.file_path)
        to_datum = self._to_datum_fn()
        n = len(index.offsets)
        order = list(range(n))
        if self.shuffle_seed is not None:
            random.Random(self.shuffle_seed).shuffle(order)
        if self.test_size > 0 and n > self.test_size:
            test_rows, train_rows = order[: self.test_size], order[self.test_size :]
        else:
            test_rows, train_rows = [], order
        train = ConversationFileDataset(index, train_rows, self.common_config.batch_size, to_datum)
        if len(train) == 0:
            raise DataFormatError(
                f"{len(train_rows)} training rows make no full batch of {self.common_config.batch_size}",
                path=index.path,
                line=0,
            )
        test = ConversationFileDataset(index, test_rows, len(test_rows), to_datum, shuffle=False) if test_rows else None
        if self.prevalidate:
            self._prevalidate(index, to_datum)
        return train, test

    def _prevalidate(self, index: ConversationIndex, to_datum: Callable[[list[Message]], Datum]) -> None:
        """Render every row once; over-long rows are truncated (cookbook semantics) and counted.

        A row left with no trained token (its assistant turn lies wholly past ``max_length``, or it has
        none) is kept, as the cookbook does, but counted and its first line named: it adds no gradient.
        """
        truncated = 0
        untrained: list[int] = []
        max_len = self.common_config.max_length
        for line, messages in read_conversation_file(index.path):
            try:
                datum = to_datum(messages)
            except ValidationError as e:
                raise DataFormatError(str(e), path=index.path, line=line) from None
            if max_len is not None and datum.model_input.length + 1 >= max_len:
                truncated += 1
            if not any(w > 0 for w in datum.loss_fn_inputs["weights"].data):
                untrained.append(line)
        if truncated:
            logger.warning(
                "%s: %d conversation(s) reach max_length=%s and are truncated", index.path, truncated, max_len
            )
        if untrained:
            logger.warning(
                "%s: %d conversation(s) have no trained token after rendering/truncation (first at line %d); "
                "they add no gradient",
                index.path,
                len(untrained),
                untrained[0],
            )


def __getattr__(name: str) -> Any:
    """HF mixes live in :mod:`.interleaved` (which builds on this module), resolved here on first use."""
    if name in ("HFDatasetSource", "InterleavedChatDatasetBuilder"):
        from . import interleaved

        return getattr(interleaved, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
