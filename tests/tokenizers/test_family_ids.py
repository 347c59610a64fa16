"""The ids docs/tokenizer-sources.md lists, for all five families, through the loader on real data."""

from __future__ import annotations

import functools

import pytest

from tests import testdata as td
from tinkerlite.tokenizers import Tokenizer, load_tokenizer

pytestmark = pytest.mark.network_registry

SPECIALS: dict[str, dict[str, int]] = {
    "llama3": {
        "<|begin_of_text|>": 128000,
        "<|end_of_text|>": 128001,
        "<|finetune_right_pad_id|>": 128004,
        "<|start_header_id|>": 128006,
        "<|end_header_id|>": 128007,
        "<|eom_id|>": 128008,
        "<|eot_id|>": 128009,
        "<|python_tag|>": 128010,
        "<|reserved_special_token_0|>": 128002,
        "<|reserved_special_token_2|>": 128005,
        "<|reserved_special_token_247|>": 128255,
    },
    "qwen3": {
        "<|endoftext|>": 151643,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
        "<tool_call>": 151657,
        "</tool_call>": 151658,
        "<tool_response>": 151665,
        "<think>": 151667,
        "</think>": 151668,
    },
    "deepseek_v3": {
        "<｜begin▁of▁sentence｜>": 0,
        "<｜end▁of▁sentence｜>": 1,
        "<｜User｜>": 128803,
        "<｜Assistant｜>": 128804,
        "<｜tool▁calls▁begin｜>": 128806,
    },
    "gpt_oss": {
        "<|startoftext|>": 199998,
        "<|endoftext|>": 199999,
        "<|return|>": 200002,
        "<|constrain|>": 200003,
        "<|channel|>": 200005,
        "<|start|>": 200006,
        "<|end|>": 200007,
        "<|message|>": 200008,
        "<|call|>": 200012,
        "<|endofprompt|>": 200018,
    },
    "kimi_k2": {
        "[BOS]": 163584,
        "[EOS]": 163585,
        "<|im_end|>": 163586,
        "<|im_user|>": 163587,
        "<|im_assistant|>": 163588,
        "<|start_header_id|>": 163590,
        "<|end_header_id|>": 163591,
        "[EOT]": 163593,
        "<|im_system|>": 163594,
        "<|tool_calls_section_begin|>": 163595,
        "<|tool_calls_section_end|>": 163596,
        "<|tool_call_begin|>": 163597,
        "<|tool_call_argument_begin|>": 163598,
        "<|tool_call_end|>": 163599,
        "<|im_middle|>": 163601,
        "<think>": 163606,
        "</think>": 163607,
        "[UNK]": 163838,
        "[PAD]": 163839,
        "<|reserved_token_163589|>": 163589,
    },
}
# Added tokens the published files flag special=False (so skip_special_tokens keeps them).
NOT_SPECIAL = {
    "qwen3": {"<tool_call>", "</tool_call>", "<tool_response>", "<think>", "</think>"},
    "deepseek_v3": {"<｜User｜>", "<｜Assistant｜>", "<｜tool▁calls▁begin｜>"},
}
HELLO = {
    "llama3": [9906, 1917],
    "qwen3": [9707, 1879],
    "deepseek_v3": [19923, 2058],
    "gpt_oss": [13225, 2375],
    "kimi_k2": [19180, 2695],
}
BOS_EOS = {
    "llama3": (128000, 128009),
    "qwen3": (None, 151645),
    "deepseek_v3": (0, 1),
    "gpt_oss": (199998, 200002),
    "kimi_k2": (163584, 163585),
}
ROUNDTRIP = [
    "",
    "Hello world",
    "  leading and trailing  \n\n\ttabs\r\n",
    "naïve café — “quotes” 'n' don't I'LL",
    "中文分词测试，日本語のテキスト、한국어 텍스트",
    "emoji 👩‍👩‍👧‍👦 🇯🇵 and precomposed \u00e9",
    "def f(x):\n    return x**2  # 12345678901234567890\n",
    "<|not_a_special|> <think> [EOS] <｜User｜>",
]


@functools.cache
def _load(fam: str) -> Tokenizer:
    # the autouse fixture empties the loader's cache per test; loading costs ~1 s per family
    return load_tokenizer(td.tokenizer_dir(fam), backend="hf")


def _tok(fam: str) -> Tokenizer:
    td.need(td.tokenizer_dir, fam)
    return _load(fam)


@pytest.fixture(params=list(HELLO))
def family_tok(request: pytest.FixtureRequest) -> tuple[str, Tokenizer]:
    fam: str = request.param
    return fam, _tok(fam)


def test_is_a_tokenizer(family_tok: tuple[str, Tokenizer]) -> None:
    assert isinstance(family_tok[1], Tokenizer)


def test_hello_world(family_tok: tuple[str, Tokenizer]) -> None:
    fam, tok = family_tok
    assert tok.encode("Hello world") == HELLO[fam]
    assert tok.encode_batch(["Hello world", "Hello world"]) == [HELLO[fam], HELLO[fam]]


def test_special_token_ids(family_tok: tuple[str, Tokenizer]) -> None:
    fam, tok = family_tok
    for content, tid in SPECIALS[fam].items():
        assert tok.token_to_id(content) == tid, content
        assert tok.id_to_token(tid) == content
        # written in the text, a special token encodes to its single id
        assert tok.encode(content) == [tid], content
        if content in NOT_SPECIAL.get(fam, ()):
            # added tokens flagged non-special survive skip_special_tokens=True (Qwen's tool/think tags)
            assert tid not in tok.special_token_ids
            assert tok.decode([tid], skip_special_tokens=True) == content
        else:
            assert tid in tok.special_token_ids
            assert content in tok.all_special_tokens


def test_bos_eos(family_tok: tuple[str, Tokenizer]) -> None:
    fam, tok = family_tok
    assert (tok.bos_token_id, tok.eos_token_id) == BOS_EOS[fam]


@pytest.mark.parametrize("text", ROUNDTRIP)
def test_decode_roundtrip(family_tok: tuple[str, Tokenizer], text: str) -> None:
    _, tok = family_tok
    assert tok.decode(tok.encode(text)) == text


def test_decode_keeps_specials_by_default(family_tok: tuple[str, Tokenizer]) -> None:
    """Trap 3: HF tokenizers' decode drops specials by default; ours keeps them (parsers need them)."""
    fam, tok = family_tok
    eos = tok.eos_token
    assert eos is not None and tok.eos_token_id is not None
    ids = [*HELLO[fam], tok.eos_token_id]
    assert tok.decode(ids) == "Hello world" + eos
    assert tok.decode(ids, skip_special_tokens=True) == "Hello world"


def test_llama3_header_example() -> None:
    tok = _tok("llama3")
    text = "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"
    assert tok.encode(text) == [128006, 882, 128007, 271, 13347, 1070, 0, 128009]


def test_llama3_bos_only_with_add_special_tokens() -> None:
    """Trap 2: BOS is prepended only when asked; the default never adds it."""
    tok = _tok("llama3")
    assert tok.encode("Hello world") == [9906, 1917]
    assert tok.encode("Hello world", add_special_tokens=True) == [128000, 9906, 1917]


def test_qwen3_nfc_normalizer() -> None:
    tok = _tok("qwen3")
    assert tok.encode("e\u0301") == tok.encode("\u00e9")
    assert tok.decode(tok.encode("combining e\u0301")) == "combining \u00e9"


@pytest.mark.parametrize("fam", ["llama3", "gpt_oss", "kimi_k2", "deepseek_v3"])
def test_no_normalizer_keeps_combining_marks(fam: str) -> None:
    tok = _tok(fam)
    assert tok.decode(tok.encode("combining e\u0301")) == "combining e\u0301"


def test_deepseek_v3_think_is_plain_text_and_low_ids_in_vocab() -> None:
    """Trap 4: specials 0/1/2 lie in the base range; the npm file must keep them in the vocab."""
    import json

    path = td.need(td.tokenizer_json, "deepseek_v3")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for added in doc["added_tokens"]:
        if added["id"] < 3:
            assert doc["model"]["vocab"][added["content"]] == added["id"]
    tok = load_tokenizer(path.parent, backend="hf")
    assert tok.token_to_id("<think>") is None  # V3 (not V3.1): plain text
    assert len(tok.encode("<think>")) > 1
