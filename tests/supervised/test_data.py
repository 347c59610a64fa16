from pathlib import Path
from typing import Any

import pytest

from tinkerlite.supervised.data import (
    DataFormatError,
    FromConversationFileBuilder,
    SupervisedDatasetFromHFDataset,
    SupervisedDatasetFromList,
    conversation_to_datum,
    index_conversation_file,
)
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

from .conftest import conv, write_jsonl


def _builder(path: Path, **kw: object) -> FromConversationFileBuilder:
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon", max_length=64, batch_size=4
    )
    return FromConversationFileBuilder(common_config=common, file_path=str(path), **kw)  # type: ignore[arg-type]


def test_conversation_to_datum_mean_reduction(renderer) -> None:  # type: ignore[no-untyped-def]
    d = conversation_to_datum(conv("Hi", "Hello.")["messages"], renderer, max_length=None)
    w = d.loss_fn_inputs["weights"].data
    assert sum(w) == pytest.approx(1.0)
    assert d.loss_fn_inputs["target_tokens"].resolved_shape == d.loss_fn_inputs["weights"].resolved_shape


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("{not json", "invalid JSON"),
        ('{"msgs": []}', "missing 'messages'"),
        ('{"messages": []}', "messages: is empty"),
        ('{"messages": [{"content": "x"}]}', "messages[0].role"),
        ('{"messages": [{"role": "user"}]}', "messages[0].content"),
        ('{"messages": [{"role": "user", "content": 3}]}', "messages[0].content"),
        ('{"messages": [{"role": "user", "content": [{"type": "video"}]}]}', "messages[0].content[0]"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [conv("a", "b"), line])
    with pytest.raises(DataFormatError) as ei:
        index_conversation_file(path)
    assert ei.value.line == 2 and ei.value.path == str(path)
    assert fragment in str(ei.value) and f"{path}:2" in str(ei.value)


def test_non_utf8_and_empty_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"messages": [{"role": "user", "content": "\xff"}]}\n')
    with pytest.raises(DataFormatError, match="UTF-8"):
        index_conversation_file(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(DataFormatError, match="no rows"):
        index_conversation_file(empty)
    with pytest.raises(DataFormatError, match="cannot open"):
        index_conversation_file(tmp_path / "missing.jsonl")


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [conv("a", "b"), "", conv("c", "d")])
    idx = index_conversation_file(path)
    assert len(idx.offsets) == 2 and idx.blank_lines == 1
    assert list(idx.line_numbers) == [1, 3]


def test_builder_split_batches_and_epoch_shuffle(tmp_path: Path) -> None:
    rows = [conv(f"q{i}", f"a{i}") for i in range(23)]
    train, test = _builder(write_jsonl(tmp_path / "d.jsonl", rows), test_size=5)()
    assert test is not None and len(test) == 1 and len(test.get_batch(0)) == 5
    assert len(train) == 18 // 4  # remainder dropped
    train.set_epoch(0)
    e0 = [d.model_input.to_ints() for d in train.get_batch(0)]
    train.set_epoch(0)
    assert [d.model_input.to_ints() for d in train.get_batch(0)] == e0  # deterministic
    train.set_epoch(1)
    assert [d.model_input.to_ints() for d in train.get_batch(0)] != e0
    with pytest.raises(IndexError):
        train.get_batch(len(train))


def test_builder_prevalidates_roles_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Renderers write any role by default (as the cookbook's do); strict mode refuses an unknown one.
    monkeypatch.setenv("TINKERLITE_RENDERER_STRICT", "1")
    rows = [conv("a", "b")] * 8 + [{"messages": [{"role": "wizard", "content": "x"}]}]
    with pytest.raises(DataFormatError) as ei:
        _builder(write_jsonl(tmp_path / "d.jsonl", rows))()
    assert ei.value.line == 9


def test_builder_too_few_rows(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no full batch"):
        _builder(write_jsonl(tmp_path / "d.jsonl", [conv("a", "b")] * 3))()


def test_list_and_hf_datasets(renderer) -> None:  # type: ignore[no-untyped-def]
    rows = [conv(f"q{i}", f"a{i}")["messages"] for i in range(10)]
    ds = SupervisedDatasetFromList(rows, 3, map_fn=lambda m: conversation_to_datum(m, renderer, None))
    assert len(ds) == 3 and len(ds.get_batch(2)) == 3

    class FakeHF:  # the duck-typed surface of datasets.Dataset
        def __init__(self, items: list[dict[str, Any]]) -> None:
            self.items = items

        def __len__(self) -> int:
            return len(self.items)

        def select(self, idx: range) -> "FakeHF":
            return FakeHF([self.items[i] for i in idx])

        def shuffle(self, seed: int) -> "FakeHF":
            return FakeHF(list(reversed(self.items)) if seed % 2 else self.items)

        def to_list(self) -> list[dict[str, Any]]:
            return self.items

    hf = SupervisedDatasetFromHFDataset(
        FakeHF([{"messages": r} for r in rows]),
        5,
        map_fn=lambda r: conversation_to_datum(r["messages"], renderer, None),
    )
    hf.set_epoch(1)
    first = hf.get_batch(0)[0]
    assert renderer.tokenizer.decode(first.model_input.to_ints()).find("q9") >= 0
