"""Added tokens: special/normalized/lstrip/rstrip/single_word flags, post-processors, decoding, vs HF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite._optional import try_import
from tinkerlite.tokenizers.pure import PureTokenizer
from tinkerlite.tokenizers.pure._bytelevel import BYTE_TO_CHAR

TEXTS = [
    "", "plain", "a <mask> b", "a<mask>b", "a   <mask>   b", "<mask>", " <mask> ", "\t<mask>\n", "x<sep>y",
    "word<sw>", "<sw> word", "a <sw> b", "_<sw>_", "é<sw>", "<sw><sw>", "<lr>  <lr>", "Ｈｅｌｌｏ", "ﬁne<nm>",
    "Hello <|eos|> world", "<|eos|><|eos|>", "café", "<caf\u00e9>", "ﬁ<nm>", "x <norm> y", "x <NORM> y",
]


def _doc(normalizer: dict[str, Any] | None, post: dict[str, Any] | None) -> dict[str, Any]:
    vocab = {c: b for b, c in enumerate(BYTE_TO_CHAR)}
    merges = []
    for word in ["He", "ll", "Hell", "Hello", "Ġw", "or", "Ġwor", "ld", "Ġworld"]:
        for i in range(1, len(word)):
            if word[:i] in vocab and word[i:] in vocab:
                merges.append([word[:i], word[i:]])
                break
        vocab[word] = len(vocab)
    specs = [
        ("<|eos|>", True, False, False, False, False),
        ("<mask>", True, False, True, True, False),
        ("<sep>", True, False, False, True, False),
        ("<sw>", False, False, False, False, True),
        ("<lr>", False, True, True, True, False),
        ("<norm>", False, True, False, False, False),
        ("<nm>", False, True, False, False, False),
        ("<caf\u00e9>", True, False, False, False, False),
    ]
    added = [
        {"id": len(vocab) + i, "content": c, "special": sp, "normalized": nz, "lstrip": ls, "rstrip": rs,
         "single_word": sw}
        for i, (c, sp, nz, ls, rs, sw) in enumerate(specs)
    ]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": post, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                                            "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }


TEMPLATE = {
    "type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<sep>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
               {"SpecialToken": {"id": "<|eos|>", "type_id": 0}}],
    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<sep>": {"id": "<sep>", "ids": [258], "tokens": ["<sep>"]},
                       "<|eos|>": {"id": "<|eos|>", "ids": [265], "tokens": ["<|eos|>"]}},
}
VARIANTS = {
    "plain": (None, None),
    "nfkc+template": ({"type": "NFKC"}, TEMPLATE),
    "seq+bytelevel-post": (
        {"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "NFC"}]},
        {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}, TEMPLATE,
        ]},
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_added_token_flags_match_hf(tmp_path: Path, variant: str) -> None:
    tokenizers = try_import("tokenizers")
    if tokenizers is None:
        pytest.skip("HF tokenizers not installed")
    doc = _doc(*VARIANTS[variant])
    # Ids in the template must be the real ids of <sep> and <|eos|>.
    ids = {a["content"]: a["id"] for a in doc["added_tokens"]}
    doc = json.loads(json.dumps(doc).replace("[258]", f"[{ids['<sep>']}]").replace("[265]", f"[{ids['<|eos|>']}]"))
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    pure = PureTokenizer.from_file(path)
    hf = tokenizers.Tokenizer.from_file(str(path))
    for text in TEXTS:
        for add in (False, True):
            assert pure.encode(text, add_special_tokens=add) == hf.encode(text, add_special_tokens=add).ids, (
                text, add)
        ids_ = pure.encode(text, add_special_tokens=True)
        for skip in (False, True):
            assert pure.decode(ids_, skip_special_tokens=skip) == hf.decode(ids_, skip_special_tokens=skip), text
    assert pure.vocab_size == hf.get_vocab_size(with_added_tokens=True)


def test_added_token_flags_without_hf(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(_doc(None, None)), encoding="utf-8")
    tok = PureTokenizer.from_file(path)
    mask, sw = tok.token_to_id("<mask>"), tok.token_to_id("<sw>")
    space = tok.token_to_id("Ġ")
    assert tok.encode("a   <mask>   b") == [ord("a"), mask, ord("b")]  # lstrip + rstrip eat the spaces
    assert sw not in tok.encode("word<sw>")  # single_word: not matched inside a word
    assert tok.encode("a <sw> b") == [ord("a"), space, sw, space, ord("b")]
    assert tok.decode(tok.encode("Hello <|eos|> world")) == "Hello <|eos|> world"
    assert tok.decode(tok.encode("Hello <|eos|> world"), skip_special_tokens=True) == "Hello  world"
