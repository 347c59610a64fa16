"""The speed paths of the pure backend give exactly the ids of the general code they stand in for.

* a chain of Isolated splits runs as one ``re.split`` per piece (DeepSeek's digits / CJK / words steps);
* ``set_word_encoder`` (what the ``auto`` backend does with HF's compiled BPE model) changes no id.
"""

from __future__ import annotations

import random
import re

import pytest

from tests.renderers.tokenizers_for_tests import family_dir
from tests.testdata import need
from tinkerlite.tokenizers.pure import PureTokenizer
from tinkerlite.tokenizers.pure._spec import _Split
from tinkerlite.tokenizers.pure.tokenizer import _isolated_splitters, _split

_ALPHABET = "ab x1234567 \n\r\t中文日本カタ,.!?'\"-_éü😀"
# Patterns with empty matches too: re.split must walk them exactly as finditer does.
_EXTRA = (r"\s*", r"a*", r"(?=b)", r"x|", r"\d{1,3}", r"$", r"^", r"[一-龥぀-ゟ゠-ヿ]+")


def _random_texts(n: int) -> list[str]:
    rng = random.Random(11)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40))) for _ in range(n)]


@pytest.mark.parametrize("pattern", _EXTRA)
def test_isolated_splitter_equals_the_general_split(pattern: str) -> None:
    step = _Split(re.compile(pattern), "Isolated", False)
    splitters = _isolated_splitters([step])
    assert splitters is not None
    for text in _random_texts(2000):
        assert [p for p in splitters[0](text) if p] == _split(text, step), text


def test_steps_it_cannot_take_fall_back() -> None:
    assert _isolated_splitters([_Split(re.compile(r"(a)b"), "Isolated", False)]) is None  # own group
    assert _isolated_splitters([_Split(re.compile(r"a"), "Removed", False)]) is None
    assert _isolated_splitters([_Split(re.compile(r"a"), "Isolated", True)]) is None


def test_deepseek_pretokenizer_takes_the_split_chain(corpus: list[str]) -> None:
    tok = PureTokenizer.from_file(need(family_dir, "deepseek_v3_1") / "tokenizer.json")
    assert tok._isolated_splits is not None and len(tok._isolated_splits) == 3
    texts = [*corpus, *_random_texts(500)]
    fast = tok.encode_batch(texts)
    tok._isolated_splits = None  # the general path
    tok._raw_cache.clear()
    tok._model.clear_cache()
    assert tok.encode_batch(texts) == fast


@pytest.mark.parametrize("family", ["qwen3", "deepseek_v3_1", "llama3"])
def test_an_external_word_encoder_changes_no_id(family: str, corpus: list[str]) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    path = need(family_dir, family) / "tokenizer.json"
    tok = PureTokenizer.from_file(path)
    texts = [*corpus, *_random_texts(300)]
    own = tok.encode_batch(texts)
    model = tokenizers.Tokenizer.from_file(str(path)).model
    calls: list[str] = []

    def hf_word(piece: str) -> list[int]:
        calls.append(piece)
        return [t.id for t in model.tokenize(piece)]

    tok.set_word_encoder(hf_word)
    assert tok.encode_batch(texts) == own
    assert calls and len(calls) == len(set(calls))  # each new piece once, then from the cache
    tok.set_word_encoder(None)
    assert tok.encode_batch(texts) == own
