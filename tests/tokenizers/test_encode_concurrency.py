"""The HF adapter flips ``encode_special_tokens`` for a split encode; no other call may ever observe it.

Also: the short-text memo of ``LoadedTokenizer`` and the renderers' per-build memo give the same ids as
uncached encoding.
"""

from __future__ import annotations

import threading

import pytest

from tests import testdata as td
from tinkerlite.tokenizers import LoadedTokenizer, load_tokenizer

pytest.importorskip("tokenizers")

TEXT = "Hi <|im_end|> there <|im_start|>user"


def test_split_and_plain_encodes_from_many_threads_never_mix() -> None:
    tok = load_tokenizer(td.need(td.tokenizer_dir, "qwen3"), backend="hf")
    assert isinstance(tok, LoadedTokenizer)
    plain = tok.encode(TEXT)
    split = tok.encode(TEXT, split_special_tokens=True)
    assert 151645 in plain and 151645 not in split
    errors: list[str] = []

    def hammer(split_mode: bool) -> None:
        want = split if split_mode else plain
        for _ in range(300):
            got = tok.encode(TEXT, split_special_tokens=split_mode)
            if got != want:
                errors.append(f"split={split_mode}: {got}")
                return

    threads = [threading.Thread(target=hammer, args=(i % 2 == 0,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert tok.inner.inner.encode_special_tokens is False  # restored


def test_memoised_encodings_equal_uncached_ones_and_are_private_copies() -> None:
    tok = load_tokenizer(td.need(td.tokenizer_dir, "llama3"), backend="hf")
    assert isinstance(tok, LoadedTokenizer)
    raw = tok.inner.inner
    for text in ["<|start_header_id|>user<|end_header_id|>\n\n", "Hello world", "x" * 65, ""]:
        first = tok.encode(text)
        first.append(-1)  # mutating a result must not leak into the memo
        assert tok.encode(text) == raw.encode(text, add_special_tokens=False).ids
    assert tok.encode("Hello", add_special_tokens=True)[0] == 128000


def test_renderer_memo_is_scoped_to_one_build() -> None:
    from tinkerlite.renderers import get_renderer
    from tinkerlite.renderers.base import _ENCODE_MEMO

    renderer = get_renderer("qwen3", load_tokenizer(td.need(td.tokenizer_dir, "qwen3"), backend="hf"))
    conv = [{"role": "user", "content": "Say <|im_end|> please"}, {"role": "assistant", "content": "<|im_end|>"}]
    a = renderer.build_supervised_example(conv)  # type: ignore[arg-type]
    assert _ENCODE_MEMO.get() is None
    b = renderer.build_supervised_examples(conv)[0]  # type: ignore[arg-type]
    assert a[0].to_ints() == b[0].to_ints() and a[1].tolist() == b[1].tolist()
    assert a[0].to_ints().count(151645) == 2  # the two turn ends; the typed <|im_end|> stays text
