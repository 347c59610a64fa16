"""Fixtures: an isolated HF/tinkerlite cache per test, and a tiny real tokenizer.json to serve."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinkerlite.tokenizers import loader
from tinkerlite.tokenizers.families import LLAMA3_PATTERN
from tinkerlite.tokenizers.tiktoken_convert import AddedTokenSpec, build_tokenizer_json

TINY_EXTRA = [b"he", b"ll", b"hell", b"hello", b" w", b"or", b" wor", b" world"]


def tiny_ranks() -> dict[bytes, int]:
    ranks = {bytes([b]): b for b in range(256)}
    for i, tok in enumerate(TINY_EXTRA):
        ranks[tok] = 256 + i
    return ranks


def tiny_tiktoken_bytes() -> bytes:
    items = sorted(tiny_ranks().items(), key=lambda kv: kv[1])
    return b"".join(base64.b64encode(tok) + b" " + str(rank).encode() + b"\n" for tok, rank in items)


TINY_SPECIALS = [AddedTokenSpec(264, "<|bos|>"), AddedTokenSpec(265, "<|eos|>"), AddedTokenSpec(266, "<|pad|>")]


def tiny_tokenizer_json() -> bytes:
    doc = build_tokenizer_json(
        tiny_ranks(), pattern=LLAMA3_PATTERN, added_tokens=TINY_SPECIALS, bos_post_processor="<|bos|>"
    )
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def tiny_json() -> bytes:
    return tiny_tokenizer_json()


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets empty HF and tinkerlite caches and no ambient hub settings."""
    for var in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "HF_ENDPOINT",
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "HF_TOKEN_PATH",
        loader.BACKEND_ENV,
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("TINKERLITE_CACHE_DIR", str(tmp_path / "tl_cache"))
    loader.clear_cache()
    yield tmp_path
    loader.clear_cache()
