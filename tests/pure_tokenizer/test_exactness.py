"""Ids identical to HF ``tokenizers`` on the ≥500-string corpus for all five families; decode round-trips."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.pure_tokenizer.make_goldens import FULL_IDS, digest
from tinkerlite.tokenizers.base import Tokenizer
from tinkerlite.tokenizers.pure import PureTokenizer

# Facts from docs/tokenizer-sources.md, independent of both implementations.
HELLO_WORLD = {
    "llama3": [9906, 1917],
    "qwen3": [9707, 1879],
    "deepseek_v3": [19923, 2058],
    "gpt_oss": [13225, 2375],
    "kimi_k2": [19180, 2695],
}
SPECIALS = {
    "llama3": {"<|begin_of_text|>": 128000, "<|eot_id|>": 128009, "<|eom_id|>": 128008, "<|python_tag|>": 128010},
    "qwen3": {"<|im_start|>": 151644, "<|im_end|>": 151645, "<think>": 151667, "</think>": 151668},
    "deepseek_v3": {"<｜begin▁of▁sentence｜>": 0, "<｜User｜>": 128803, "<｜Assistant｜>": 128804},
    "gpt_oss": {"<|start|>": 200006, "<|message|>": 200008, "<|call|>": 200012, "<|endofprompt|>": 200018},
    "kimi_k2": {"[BOS]": 163584, "<|im_end|>": 163586, "<think>": 163606, "[PAD]": 163839},
}


def test_corpus_is_big_enough(corpus: list[str]) -> None:
    assert len(corpus) >= 500
    assert len(set(corpus)) == len(corpus)


def test_known_ids(family: str, pure: PureTokenizer) -> None:
    assert pure.encode("Hello world") == HELLO_WORLD[family]
    for text, id_ in SPECIALS[family].items():
        assert pure.encode(text) == [id_]
        assert pure.token_to_id(text) == id_
        assert pure.id_to_token(id_) == text
    if family == "llama3":
        text = "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"
        assert pure.encode(text) == [128006, 882, 128007, 271, 13347, 1070, 0, 128009]


def test_matches_goldens(family: str, pure: PureTokenizer, corpus: list[str], goldens: dict[str, Any]) -> None:
    """Runs without HF ``tokenizers``: digests of the oracle's ids, committed."""
    gold = goldens[family]
    assert gold["corpus_strings"] == len(corpus)
    ours = pure.encode_batch(corpus)
    assert ours[:FULL_IDS] == gold["first_ids"]
    bad = [(i, corpus[i]) for i, ids in enumerate(ours) if digest(ids) != gold["digests"][i]]
    assert not bad, f"{len(bad)} corpus strings encode differently from the goldens, e.g. {bad[:5]!r}"
    assert sum(map(len, ours)) == gold["total_tokens"]


def test_ids_match_hf(family: str, pure: PureTokenizer, hf: Any, corpus: list[str]) -> None:
    expected = [e.ids for e in hf.encode_batch(corpus, add_special_tokens=False)]
    ours = [pure.encode(s) for s in corpus]
    bad = [(s, o[:12], e[:12]) for s, o, e in zip(corpus, ours, expected, strict=True) if o != e]
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]!r}"


def test_add_special_tokens_matches_hf(family: str, pure: PureTokenizer, hf: Any, corpus: list[str]) -> None:
    for s in corpus[:60]:
        assert pure.encode(s, add_special_tokens=True) == hf.encode(s, add_special_tokens=True).ids, s
    if family == "llama3":
        assert pure.encode("Hi", add_special_tokens=True)[0] == 128000


def test_decode_matches_hf_and_round_trips(family: str, pure: PureTokenizer, hf: Any, corpus: list[str]) -> None:
    for s in corpus:
        ids = pure.encode(s)
        text = pure.decode(ids)
        # Qwen3 has an NFC normalizer, so the round trip is to the normalized text.
        assert text == (unicodedata.normalize("NFC", s) if family == "qwen3" else s)
        assert text == hf.decode(ids, skip_special_tokens=False)
        assert pure.decode(ids, skip_special_tokens=True) == hf.decode(ids, skip_special_tokens=True)


def test_decode_arbitrary_ids_matches_hf(family: str, pure: PureTokenizer, hf: Any) -> None:
    """Token boundaries inside UTF-8 sequences and out-of-range ids: lossy decode, same U+FFFD count."""
    import random

    rng = random.Random(7)
    n = hf.get_vocab_size(with_added_tokens=True)
    for _ in range(300):
        ids = [rng.randrange(n + 5) for _ in range(rng.randint(0, 12))]
        assert pure.decode(ids) == hf.decode(ids, skip_special_tokens=False), ids
        assert pure.decode(ids, skip_special_tokens=True) == hf.decode(ids, skip_special_tokens=True), ids


def test_vocab_and_lookup_match_hf(family: str, pure: PureTokenizer, hf: Any) -> None:
    assert pure.vocab_size == hf.get_vocab_size(with_added_tokens=True)
    n = pure.vocab_size
    for i in [*range(0, 300), *range(n - 300, n + 3)]:
        assert pure.id_to_token(i) == hf.id_to_token(i), i
        tok = hf.id_to_token(i)
        if tok is not None:
            assert pure.token_to_id(tok) == hf.token_to_id(tok), tok
    assert pure.token_to_id("definitely not a token \u2603\u2603") is None
    decoder = hf.get_added_tokens_decoder()
    specials = sorted((i, t.content) for i, t in decoder.items() if t.special)
    assert pure.special_token_ids == {i for i, _ in specials}
    assert list(pure.all_special_tokens) == [c for _, c in specials]


def test_batch_equals_single(pure: PureTokenizer, corpus: list[str]) -> None:
    assert pure.encode_batch(corpus[:100]) == [pure.encode(s) for s in corpus[:100]]


def test_satisfies_protocol(pure: PureTokenizer) -> None:
    assert isinstance(pure, Tokenizer)
    assert pure.bos_token is None and pure.bos_token_id is None
    assert pure.name_or_path.endswith("tokenizer.json")


@pytest.mark.parametrize("family", ["llama3"])
def test_bos_eos_from_arguments(family: str, pure: PureTokenizer) -> None:
    from tests.testdata import tokenizer_json

    tok = PureTokenizer.from_file(tokenizer_json(family), bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    assert (tok.bos_token_id, tok.eos_token_id) == (128000, 128009)


def test_bos_eos_from_tokenizer_config(tmp_path: Path) -> None:
    doc = {
        "added_tokens": [{"id": 3, "content": "<s>", "special": True}, {"id": 4, "content": "</s>", "special": True}],
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]},
    }
    config = {"bos_token": {"content": "<s>"}, "eos_token": "</s>"}
    tok = PureTokenizer.from_tokenizer_json(doc, tokenizer_config=config)
    assert (tok.bos_token, tok.bos_token_id, tok.eos_token, tok.eos_token_id) == ("<s>", 3, "</s>", 4)
    assert tok.encode("<s>ab</s>") == [3, 2, 4]
    assert tok.decode([3, 2, 4]) == "<s> ab </s>"  # no decoder: tokens joined by spaces, as tokenizers does
    cfg = tmp_path / "tokenizer_config.json"
    cfg.write_text(json.dumps({"bos_token": "<s>", "eos_token": None}), encoding="utf-8")
    tok = PureTokenizer.from_tokenizer_json(doc, tokenizer_config=cfg, eos_token="</s>")
    assert (tok.bos_token_id, tok.eos_token_id) == (3, 4)
