"""StreamingSupervisedDatasetFromHFDataset (plain iterables and HF-style streams), HF mixes, package exports."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import tinkerlite.supervised as sup
from tinkerlite.errors import MissingExtraError
from tinkerlite.exceptions import DataValidationError
from tinkerlite.supervised.data import StreamingSupervisedDatasetFromHFDataset
from tinkerlite.types import Datum, ModelInput


def _datum(row: dict[str, Any]) -> Datum:
    return Datum(model_input=ModelInput.from_ints([row["i"]]), loss_fn_inputs={})


def _ids(batch: list[Datum]) -> list[int]:
    return [d.model_input.to_ints()[0] for d in batch]


def test_plain_iterable_forward_only_shuffled_deterministically() -> None:
    rows = [{"i": i} for i in range(10)]
    ds = StreamingSupervisedDatasetFromHFDataset(rows, batch_size=3, length=10, map_fn=_datum, buffer_size=4)
    assert len(ds) == 3
    b0, b2 = _ids(ds.get_batch(0)), _ids(ds.get_batch(2))  # batch 1 skipped (consumed)
    with pytest.raises(DataValidationError, match="forward iteration"):
        ds.get_batch(1)
    with pytest.raises(IndexError):
        ds.get_batch(3)  # 10 rows make 3 full batches; the partial one is dropped
    ds.set_epoch(0)
    again = _ids(ds.get_batch(0)) + _ids(ds.get_batch(1)) + _ids(ds.get_batch(2))
    assert again[:3] == b0 and again[6:] == b2
    assert len(set(again)) == 9 and set(again) <= set(range(10))
    assert again != list(range(9))  # shuffled through the buffer
    ds.set_epoch(1)
    assert _ids(ds.get_batch(0)) + _ids(ds.get_batch(1)) + _ids(ds.get_batch(2)) != again


def test_flatmap_and_argument_errors() -> None:
    ds = StreamingSupervisedDatasetFromHFDataset(
        [{"i": 1}, {"i": 2}], batch_size=2, length=2, flatmap_fn=lambda r: [_datum(r), _datum(r)]
    )
    assert sorted(_ids(ds.get_batch(0))) == [1, 1, 2, 2]
    with pytest.raises(DataValidationError, match="exactly one"):
        StreamingSupervisedDatasetFromHFDataset([], batch_size=2, length=0)
    with pytest.raises(DataValidationError, match="batch_size"):
        StreamingSupervisedDatasetFromHFDataset([], batch_size=0, length=0, map_fn=_datum)


class _FakeIterableDataset:
    """The slice of ``datasets.IterableDataset`` the cookbook uses: shuffle, batch, set_epoch, column batches."""

    def __init__(self, rows: list[dict[str, Any]], calls: list[Any], batch_size: int | None = None) -> None:
        self.rows, self.calls, self.batch_size = rows, calls, batch_size

    def shuffle(self, seed: int, buffer_size: int) -> _FakeIterableDataset:
        self.calls.append(("shuffle", seed, buffer_size))
        return _FakeIterableDataset(list(reversed(self.rows)), self.calls)

    def batch(self, batch_size: int, drop_last_batch: bool) -> _FakeIterableDataset:
        self.calls.append(("batch", batch_size, drop_last_batch))
        return _FakeIterableDataset(self.rows, self.calls, batch_size)

    def set_epoch(self, seed: int) -> None:
        self.calls.append(("set_epoch", seed))

    def __iter__(self) -> Any:
        assert self.batch_size is not None
        for s in range(0, len(self.rows) - self.batch_size + 1, self.batch_size):
            chunk = self.rows[s : s + self.batch_size]
            yield {k: [r[k] for r in chunk] for k in chunk[0]}


def test_hf_iterable_dataset_used_as_the_cookbook_does() -> None:
    calls: list[Any] = []
    fake = _FakeIterableDataset([{"i": i} for i in range(5)], calls)
    ds = StreamingSupervisedDatasetFromHFDataset(fake, batch_size=2, length=5, map_fn=_datum, buffer_size=7)
    assert calls == [("shuffle", 0, 7), ("batch", 2, True)]
    assert _ids(ds.get_batch(0)) == [4, 3] and _ids(ds.get_batch(1)) == [2, 1]
    ds.set_epoch(3)
    assert calls[-1] == ("set_epoch", 3) and _ids(ds.get_batch(0)) == [4, 3]
    assert "datasets" not in sys.modules


def test_interleaved_builder_names_the_datasets_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # make the import fail even if installed
    common = sup.ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon", max_length=64, batch_size=2
    )
    builder = sup.InterleavedChatDatasetBuilder(common_config=common, sources=[sup.HFDatasetSource(path="a/b")])
    with pytest.raises(MissingExtraError, match="datasets"):
        builder()
    with pytest.raises(ValueError, match="At least one"):
        sup.InterleavedChatDatasetBuilder(common_config=common, sources=[])()


def test_package_exports_match_the_cookbook() -> None:
    assert set(sup.__all__) == {
        "ChatDatasetBuilder",
        "ChatDatasetBuilderCommonConfig",
        "SupervisedDataset",
        "SupervisedDatasetBuilder",
        "HFDatasetSource",
        "FromConversationFileBuilder",
        "InterleavedChatDatasetBuilder",
        "StreamingSupervisedDatasetFromHFDataset",
        "SupervisedDatasetFromHFDataset",
        "conversation_to_datum",
        "compute_bpb",
        "compute_mean_nll",
        "datum_from_model_input_weights",
    }
    assert all(hasattr(sup, n) for n in sup.__all__)


def test_data_format_errors_are_the_cookbooks_too() -> None:
    from tinkerlite import exceptions
    from tinkerlite.errors import ValidationError
    from tinkerlite.supervised.data import DataFormatError

    err = DataFormatError("bad row", path="f.jsonl", line=3)
    assert isinstance(err, exceptions.DataFormatError) and isinstance(err, ValidationError)
    assert str(err) == "f.jsonl:3: bad row"


def test_hf_like_stream_whose_batch_is_a_one_shot_iterator() -> None:
    class OneShot:
        def __init__(self, rows: list[dict[str, Any]]) -> None:
            self.rows, self.epochs = rows, []

        def shuffle(self, seed: int, buffer_size: int) -> OneShot:
            return self

        def set_epoch(self, epoch: int) -> None:
            self.epochs.append(epoch)

        def batch(self, batch_size: int, drop_last_batch: bool) -> Any:
            for s in range(0, len(self.rows) - batch_size + 1, batch_size):
                chunk = self.rows[s : s + batch_size]
                yield {k: [r[k] for r in chunk] for k in chunk[0]}

    src = OneShot([{"i": i} for i in range(4)])
    ds = StreamingSupervisedDatasetFromHFDataset(src, batch_size=2, length=4, map_fn=_datum)
    assert _ids(ds.get_batch(1)) == [2, 3]
    ds.set_epoch(5)  # the generator is spent: the stream is re-batched
    assert src.epochs == [5] and _ids(ds.get_batch(0)) == [0, 1]


class _FakeHFDataset:
    """The slice of ``datasets.Dataset`` the interleaved builder and SupervisedDatasetFromHFDataset use."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]

    def rename_column(self, old: str, new: str) -> _FakeHFDataset:
        return _FakeHFDataset([{(new if k == old else k): v for k, v in r.items()} for r in self.rows])

    def select_columns(self, cols: list[str]) -> _FakeHFDataset:
        return _FakeHFDataset([{c: r[c] for c in cols} for r in self.rows])

    def shuffle(self, seed: int) -> _FakeHFDataset:
        import random

        rows = list(self.rows)
        random.Random(seed).shuffle(rows)
        return _FakeHFDataset(rows)

    def skip(self, n: int) -> _FakeHFDataset:
        return _FakeHFDataset(self.rows[n:])

    def take(self, n: int) -> _FakeHFDataset:
        return _FakeHFDataset(self.rows[:n])

    def select(self, idx: Any) -> _FakeHFDataset:
        return _FakeHFDataset([self.rows[i] for i in idx])

    def to_list(self) -> list[dict[str, Any]]:
        return list(self.rows)


def _fake_datasets_module(sources: dict[str, list[dict[str, Any]]], calls: list[Any]) -> Any:
    import types

    mod = types.ModuleType("datasets")
    mod.Dataset = _FakeHFDataset  # type: ignore[attr-defined]

    def load_dataset(path: str, name: str | None = None, split: str = "train") -> _FakeHFDataset:
        return _FakeHFDataset(sources[path])

    def interleave_datasets(dss: list[Any], probabilities: list[float], seed: int, stopping_strategy: str) -> Any:
        calls.append((probabilities, stopping_strategy, [len(d) for d in dss]))
        return _FakeHFDataset([r for d in dss for r in d.rows])

    def concatenate_datasets(dss: list[Any]) -> Any:
        return _FakeHFDataset([r for d in dss for r in d.rows])

    mod.load_dataset = load_dataset  # type: ignore[attr-defined]
    mod.interleave_datasets = interleave_datasets  # type: ignore[attr-defined]
    mod.concatenate_datasets = concatenate_datasets  # type: ignore[attr-defined]
    return mod


def _convo(tag: str, i: int) -> dict[str, Any]:
    return {"msgs": [{"role": "user", "content": f"{tag}{i}"}, {"role": "assistant", "content": "ok"}]}


def test_interleaved_builder_weights_and_holdout(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    sources = {"a/x": [_convo("a", i) for i in range(6)], "b/y": [_convo("b", i) for i in range(2)]}
    monkeypatch.setitem(sys.modules, "datasets", _fake_datasets_module(sources, calls))
    common = sup.ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon", max_length=64, batch_size=2
    )
    srcs = [
        sup.HFDatasetSource(path="a/x", message_field="msgs"),
        sup.HFDatasetSource(path="b/y", message_field="msgs"),
    ]
    train, test = sup.InterleavedChatDatasetBuilder(common_config=common, sources=srcs)()
    assert test is None and len(train) == 4 and calls[-1] == ([0.75, 0.25], "all_exhausted", [6, 2])
    assert len(train.get_batch(0)) == 2
    train, test = sup.InterleavedChatDatasetBuilder(common_config=common, sources=srcs, test_size=3, shuffle_seed=1)()
    assert test is not None and len(test.get_batch(0)) == 3
    probs, _, sizes = calls[-1]
    assert sum(sizes) == 5 and all(s >= 1 for s in sizes)  # every weighted source keeps a training row
    assert probs == pytest.approx([s / 5 for s in sizes])  # unweighted: by remaining rows
    with pytest.raises(ValueError, match="exceeds the maximum unique holdout size"):
        sup.InterleavedChatDatasetBuilder(common_config=common, sources=srcs, test_size=7)()
    mixed = [sup.HFDatasetSource(path="a/x", message_field="msgs", weight=1.0), srcs[1]]
    with pytest.raises(ValueError, match="all sources must have explicit weights"):
        sup.InterleavedChatDatasetBuilder(common_config=common, sources=mixed)()
    weighted = [sup.HFDatasetSource(path=p, message_field="msgs", weight=w) for p, w in (("a/x", 1.0), ("b/y", 3.0))]
    sup.InterleavedChatDatasetBuilder(common_config=common, sources=weighted)()
    assert calls[-1][0] == [0.25, 0.75]
