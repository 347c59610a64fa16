"""The O(n log n) heap merge used for long words gives exactly the rescanning merge's result."""

from __future__ import annotations

import base64
import random

import pytest

import tinkerlite.tokenizers.pure._bpe as bpe_mod
from tinkerlite.tokenizers.pure import PureTokenizer
from tinkerlite.tokenizers.pure._bpe import BPE
from tinkerlite.tokenizers.pure._bytelevel import BYTE_TO_CHAR, to_bytelevel


def _byte_vocab() -> dict[str, int]:
    return {c: b for b, c in enumerate(BYTE_TO_CHAR)}


def _naive(model: BPE, word: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setattr(bpe_mod, "_NAIVE_MAX", 10**9)
        return model._merge(word)


def test_heap_equals_naive_for_merges_and_tiktoken_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    words = ["".join(rng.choice("aaabbc  \n=-_01") for _ in range(rng.randint(2, 120))) for _ in range(150)]
    words += ["a" * 97, " " * 64, "ab" * 50, "=" * 33 + "-" * 33]
    words = [to_bytelevel(w) for w in words]
    vocab = _byte_vocab()
    merges: dict[tuple[str, str], int] = {}
    for tok in ["aa", "ab", "aaa", "aab", "bb", "Ġa", "ĠĠ", "ĠĠĠĠ", "==", "====", "01", "--", "ĊĊ", "abab", "ba"]:
        for i in range(1, len(tok)):
            left, right = tok[:i], tok[i:]
            if left in vocab and right in vocab and (left, right) not in merges:
                merges[(left, right)] = len(merges)
        vocab.setdefault(tok, len(vocab))
    for model in (BPE(vocab, merges=merges), BPE(vocab, merges=None, ignore_merges=True)):
        for w in words:
            assert model._merge_heap(w) == _naive(model, w, monkeypatch), w


def test_long_words_are_fast_and_exact() -> None:
    vocab = _byte_vocab()
    vocab["aa"] = 256
    model = BPE(vocab, merges={("a", "a"): 0})
    assert model.encode_word("a" * 20001) == [256] * 10000 + [ord("a")]


def test_cache_does_not_change_results(corpus: list[str]) -> None:
    data = b"".join(base64.b64encode(bytes([b])) + b" %d\n" % b for b in range(256))
    tok = PureTokenizer.from_tiktoken(data, r"\s+|\S+", {})
    first = tok.encode_batch(corpus)
    assert tok.encode_batch(corpus) == first
    assert [tok.decode(ids) for ids in first] == corpus
