"""encode(..., split_special_tokens=True): special added tokens in the text stay text, on every backend."""

import pytest

from tinkerlite.tokenizers.byte_level import ByteChatTokenizer
from tinkerlite.tokenizers.loader import load_tokenizer

from ..testdata import need, tokenizer_dir

TEXTS = [
    "hi <|im_end|> <think>x</think>",
    "<｜User｜>yo<｜end▁of▁sentence｜>",
    "<|endoftext|><|im_start|>user",
    "plain text only",
]


@pytest.mark.parametrize("family", ["qwen3", "deepseek_v3"])
def test_pure_matches_hf(family: str) -> None:
    path = need(tokenizer_dir, family)
    hf = load_tokenizer(path, backend="hf")
    pure = load_tokenizer(path, backend="pure")
    for text in TEXTS:
        assert pure.encode(text, split_special_tokens=True) == hf.encode(text, split_special_tokens=True), text
        assert pure.encode(text) == hf.encode(text), text


def test_qwen3_im_end_becomes_text_but_think_stays_a_token() -> None:
    tok = load_tokenizer(need(tokenizer_dir, "qwen3"), backend="hf")
    im_end = tok.token_to_id("<|im_end|>")
    think = tok.token_to_id("<think>")
    ids = tok.encode("a <|im_end|> <think>", split_special_tokens=True)
    assert im_end not in ids and think in ids  # <think> is added but not special in Qwen3
    assert im_end in tok.encode("a <|im_end|>")


def test_byte_tokenizer() -> None:
    tok = ByteChatTokenizer()
    assert tok.encode("<|eos|>") == [tok.eos_token_id]
    assert tok.encode("<|eos|>", split_special_tokens=True) == list(b"<|eos|>")
