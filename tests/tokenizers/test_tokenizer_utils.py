"""The cookbook-path shim exposes the cookbook's names with the same behaviour."""

from __future__ import annotations

import inspect
from pathlib import Path

from tinkerlite import tokenizer_utils
from tinkerlite.tokenizers import Tokenizer


def test_same_public_names_as_the_cookbook_module() -> None:
    for name in (
        "Tokenizer",
        "get_tokenizer",
        "register_tokenizer",
        "unregister_tokenizer",
        "is_tokenizer_registered",
        "get_registered_tokenizer_names",
        "encode_without_special_tokens",
    ):
        assert hasattr(tokenizer_utils, name), name
    assert list(inspect.signature(tokenizer_utils.get_tokenizer).parameters) == ["model_name"]


def test_get_tokenizer_local_dir_and_encode_without_specials(tmp_path: Path, tiny_json: bytes) -> None:
    (tmp_path / "tokenizer.json").write_bytes(tiny_json)
    (tmp_path / "tokenizer_config.json").write_text('{"bos_token": "<|bos|>", "eos_token": "<|eos|>"}')
    tok = tokenizer_utils.get_tokenizer(str(tmp_path))
    assert isinstance(tok, Tokenizer)
    assert tokenizer_utils.encode_without_special_tokens(tok, "hello") == [259]
    assert tok.encode("hello", add_special_tokens=True) == [264, 259]
    assert getattr(tok, "convert_tokens_to_ids")("<|eos|>") == 265  # noqa: B009
    assert getattr(tok, "all_special_ids") == [264, 265, 266]  # noqa: B009


def test_registry_round_trip() -> None:
    marker = object()
    tokenizer_utils.register_tokenizer("x/y", lambda: marker)
    try:
        assert tokenizer_utils.get_tokenizer("x/y") is marker
    finally:
        tokenizer_utils.unregister_tokenizer("x/y")
