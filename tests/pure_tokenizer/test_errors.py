"""Unsupported tokenizer.json features fail loudly, naming the file and the JSON field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.tokenizers.pure import PureTokenizer


def _doc(**over: Any) -> dict[str, Any]:
    vocab = {c: i for i, c in enumerate("abcdefgh")}
    vocab["ab"] = len(vocab)
    doc: dict[str, Any] = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": vocab, "merges": ["a b"]},
    }
    doc.update(over)
    return doc


def _load(tmp_path: Path, doc: dict[str, Any]) -> PureTokenizer:
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return PureTokenizer.from_file(path)


def test_minimal_document_works(tmp_path: Path) -> None:
    tok = _load(tmp_path, _doc())
    assert tok.encode("abc") == [8, 2]
    assert tok.decode([8, 2]) == "abc"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "a"}}, "model.type"),
        ({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "byte_fallback": True}}, "model.byte_fallback"),
        ({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a"]}}, "model.merges[0]"),
        ({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}, "model.merges[0]"),
        ({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}, "model.vocab['a']"),
        ({"normalizer": {"type": "Lowercase"}}, "normalizer.type"),
        ({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Strip"}]}},
         "normalizer.normalizers[1].type"),
        ({"pre_tokenizer": {"type": "Metaspace"}}, "pre_tokenizer.type"),
        ({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}]}},
         "pre_tokenizer.pretokenizers[0].type"),
        ({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"}},
         "pre_tokenizer.behavior"),
        ({"decoder": {"type": "WordPiece"}}, "decoder.type"),
        ({"post_processor": {"type": "Weird"}}, "post_processor.type"),
        ({"truncation": {"max_length": 5}}, "truncation"),
    ],
)
def test_unsupported_feature_names_path_and_field(tmp_path: Path, over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        _load(tmp_path, _doc(**over))
    assert e.value.field == field
    assert str(tmp_path / "tokenizer.json") in str(e.value)


def test_bad_regex_names_field(tmp_path: Path) -> None:
    doc = _doc(pre_tokenizer={"type": "Split", "pattern": {"Regex": r"\p{NoSuchThing}"}, "behavior": "Isolated"})
    with pytest.raises(ValidationError, match=r"NoSuchThing") as e:
        _load(tmp_path, doc)
    assert "pre_tokenizer.pattern.Regex" in (e.value.field or "")


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match="cannot read"):
        PureTokenizer.from_file(tmp_path / "tokenizer.json")
    with pytest.raises(ValidationError):
        PureTokenizer.from_file(tmp_path / "missing.json")
