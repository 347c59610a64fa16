"""``from_tiktoken`` on the raw rank files encodes like the tokenizer.json built from them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.testdata import need, tiktoken_file, tokenizer_json
from tinkerlite.errors import ValidationError
from tinkerlite.tokenizers.pure import PureTokenizer

from .conftest import _pure


def _pattern_and_specials(family: str) -> tuple[list[str], dict[str, int], str | None]:
    doc: dict[str, Any] = json.loads(tokenizer_json(family).read_text(encoding="utf-8"))
    steps = doc["pre_tokenizer"]["pretokenizers"]
    pattern = [s["pattern"]["Regex"] for s in steps if s["type"] == "Split"]
    specials = {a["content"]: a["id"] for a in doc["added_tokens"]}
    norm = (doc.get("normalizer") or {}).get("type")
    if norm == "Sequence" and not doc["normalizer"]["normalizers"]:  # DeepSeek: an empty sequence
        norm = None
    return pattern, specials, norm


@pytest.mark.slow
@pytest.mark.parametrize("family", ["llama3", "qwen3", "deepseek_v3", "gpt_oss", "kimi_k2"])
def test_tiktoken_matches_tokenizer_json(family: str, corpus: list[str]) -> None:
    path = need(tiktoken_file, family)
    pattern, specials, norm = need(_pattern_and_specials, family)
    tok = PureTokenizer.from_tiktoken(path, pattern, specials, normalizer=norm)
    ref = need(_pure, family)
    assert tok.vocab_size == ref.vocab_size
    for s in corpus:
        ids = tok.encode(s)
        assert ids == ref.encode(s), s
        assert tok.decode(ids) == ref.decode(ids)


def test_tiktoken_from_bytes_and_errors() -> None:
    ranks = {bytes([b]): b for b in range(256)}
    ranks.update({b"ab": 256, b"abc": 257, b"bc": 258})
    data = b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items())
    tok = PureTokenizer.from_tiktoken(data, r"\p{L}+|\s+|[^\s\p{L}]+", {"<|end|>": 259})
    # "abc" is a token (ignore_merges); "abcab" merges ab first (rank 256), then abc.
    assert tok.encode("abc") == [257]
    assert tok.encode("abcab") == [257, 256]
    assert tok.encode("bcx<|end|>") == [258, ord("x"), 259]
    assert tok.decode([257, 259]) == "abc<|end|>"
    assert tok.vocab_size == 260
    with pytest.raises(ValidationError, match="bad tiktoken line") as e:
        PureTokenizer.from_tiktoken(b"YWI= 1\nnot-base64!! 2\n", "x", {}, name_or_path="t.tiktoken")
    assert e.value.field == "t.tiktoken:2"
    with pytest.raises(ValidationError, match="unsupported Unicode property"):
        PureTokenizer.from_tiktoken(data, r"\p{Klingon}", {})
