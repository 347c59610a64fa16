"""tiktoken -> tokenizer.json conversion: unit behaviour on small tables, and equality with published files."""

from __future__ import annotations

import base64
import json

import pytest

from tests import testdata as td
from tests.tokenizers.conftest import TINY_SPECIALS, tiny_ranks, tiny_tiktoken_bytes
from tinkerlite.errors import ValidationError
from tinkerlite.tokenizers.families import LLAMA3_PATTERN, TIKTOKEN_FAMILIES
from tinkerlite.tokenizers.hf import HFTokenizer
from tinkerlite.tokenizers.tiktoken_convert import (
    AddedTokenSpec,
    build_tokenizer_json,
    byte_to_unicode,
    merges_from_ranks,
    parse_tiktoken_ranks,
    token_to_unicode,
)


def test_byte_to_unicode_is_a_bijection_with_gpt2_spellings() -> None:
    table = byte_to_unicode()
    assert len(set(table)) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"
    assert token_to_unicode(b" hello") == "Ġhello"


def test_parse_ranks_roundtrip_and_errors() -> None:
    assert parse_tiktoken_ranks(tiny_tiktoken_bytes()) == tiny_ranks()
    with pytest.raises(ValidationError, match=r"f.tiktoken:2"):
        parse_tiktoken_ranks(b"IQ== 0\nnot-base64! 1\n", source="f.tiktoken")
    with pytest.raises(ValidationError, match="duplicate"):
        parse_tiktoken_ranks(b"IQ== 0\nIg== 0\n")
    with pytest.raises(ValidationError, match="empty"):
        parse_tiktoken_ranks(b"\n")


def test_merges_ordered_by_merged_rank_then_parts() -> None:
    ranks = {b"a": 0, b"b": 1, b"c": 2, b"ab": 3, b"bc": 4, b"abc": 5}
    # 'abc' splits as a+bc (ranks 0,4) and ab+c (3,2): ordered by the left part's rank
    assert merges_from_ranks(ranks) == [(b"a", b"b"), (b"b", b"c"), (b"a", b"bc"), (b"ab", b"c")]


def test_tiny_conversion_encodes_like_tiktoken() -> None:
    doc = build_tokenizer_json(tiny_ranks(), pattern=LLAMA3_PATTERN, added_tokens=TINY_SPECIALS)
    tok = HFTokenizer.from_str(json.dumps(doc))
    ids = tok.encode("hello world<|eos|>")
    assert ids == [256 + 3, 256 + 7, 265]
    assert tok.decode(ids) == "hello world<|eos|>"
    assert tok.decode(ids, skip_special_tokens=True) == "hello world"
    # bytes that are not valid UTF-8 alone still round-trip through the byte-level map
    assert tok.decode(tok.encode("héllo ✓ 𝄞")) == "héllo ✓ 𝄞"


def test_added_tokens_must_continue_the_id_space_densely() -> None:
    with pytest.raises(ValidationError, match="densely from 264"):
        build_tokenizer_json(tiny_ranks(), pattern=LLAMA3_PATTERN, added_tokens=[AddedTokenSpec(300, "<x>")])


def test_added_token_reusing_a_base_id_is_rejected() -> None:
    # Trap 4: tokenizers would silently renumber it.
    with pytest.raises(ValidationError, match="reuses base id"):
        build_tokenizer_json(tiny_ranks(), pattern=LLAMA3_PATTERN, added_tokens=[AddedTokenSpec(5, "<s>")])


def test_kimi_table_overrides_from_config() -> None:
    fam = TIKTOKEN_FAMILIES["kimi_k2"]
    specs = {s.id: s for s in fam.added_tokens(163584, {163589: ("<|custom|>", False)})}
    assert specs[163589].content == "<|custom|>" and not specs[163589].special
    assert specs[163584].content == "[BOS]" and specs[163592].content == "<|reserved_token_163592|>"
    assert len(specs) == 256


def _npm_merges(doc: dict[str, object]) -> list[list[str]]:
    model = doc["model"]
    assert isinstance(model, dict)
    return [m.split(" ") if isinstance(m, str) else list(m) for m in model["merges"]]


@pytest.mark.slow
@pytest.mark.network_registry
def test_llama3_conversion_matches_published_tokenizer_json() -> None:
    ours = json.loads(td.need(td.tokenizer_json, "llama3").read_text(encoding="utf-8"))
    npm = json.loads((td.need(td.npm_tokenizer_dir, "llama3") / "tokenizer.json").read_text(encoding="utf-8"))
    assert ours["model"]["vocab"] == npm["model"]["vocab"]
    assert ours["model"]["merges"] == _npm_merges(npm)  # merge order included
    assert ours["pre_tokenizer"]["pretokenizers"][0] == npm["pre_tokenizer"]["pretokenizers"][0]
    ours_added = {a["id"]: a["content"] for a in ours["added_tokens"]}
    npm_added = {a["id"]: a["content"] for a in npm["added_tokens"]}
    assert set(ours_added) == set(npm_added) == set(range(128000, 128256))
    # Trap 1: the npm file has Llama 3.0 names; ours are 3.1's.
    assert npm_added[128008] == "<|reserved_special_token_4|>" and ours_added[128008] == "<|eom_id|>"
    assert ours_added[128010] == "<|python_tag|>" and ours_added[128004] == "<|finetune_right_pad_id|>"
    for tid in (128000, 128001, 128006, 128007, 128009):
        assert ours_added[tid] == npm_added[tid]
    assert ours_added[128255] == "<|reserved_special_token_247|>"


@pytest.mark.slow
@pytest.mark.network_registry
def test_o200k_conversion_matches_published_gpt_oss_tokenizer_json() -> None:
    ours = json.loads(td.need(td.tokenizer_json, "gpt_oss").read_text(encoding="utf-8"))
    npm = json.loads((td.need(td.npm_tokenizer_dir, "gpt_oss") / "tokenizer.json").read_text(encoding="utf-8"))
    assert ours["model"]["vocab"] == npm["model"]["vocab"]
    assert ours["model"]["merges"] == _npm_merges(npm)
    assert ours["pre_tokenizer"]["pretokenizers"][0] == npm["pre_tokenizer"]["pretokenizers"][0]
    assert [(a["id"], a["content"], a["special"]) for a in ours["added_tokens"]] == [
        (a["id"], a["content"], a["special"]) for a in npm["added_tokens"]
    ]


@pytest.mark.slow
@pytest.mark.network_registry
def test_converter_reads_every_family_table() -> None:
    """All five raw tables parse; sizes and first ids are as documented (DeepSeek's ranks start at 3)."""
    expect = {"llama3": (128000, 0), "qwen3": (151643, 0), "deepseek_v3": (127997, 3), "kimi_k2": (163584, 0)}
    for fam, (count, first) in expect.items():
        ranks = parse_tiktoken_ranks(td.need(td.tiktoken_file, fam).read_bytes())
        assert len(ranks) == count and min(ranks.values()) == first
        assert base64.b64encode(min(ranks, key=ranks.__getitem__)) == b"IQ=="  # '!' comes first everywhere
