"""Loading from local files, directories and the HF cache layout; backend choice; in-process cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.tokenizers.conftest import tiny_tiktoken_bytes
from tinkerlite._optional import try_import
from tinkerlite.errors import MissingExtraError, ValidationError
from tinkerlite.tokenizers import Tokenizer, get_tokenizer, load_tokenizer, loader
from tinkerlite.tokenizers.config import parse_tokenizer_config
from tinkerlite.tokenizers.hub import NotCachedError

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def _write_dir(path: Path, tiny_json: bytes, config: dict[str, object] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "tokenizer.json").write_bytes(tiny_json)
    if config is not None:
        (path / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return path


def test_load_tokenizer_json_file(tmp_path: Path, tiny_json: bytes) -> None:
    d = _write_dir(tmp_path / "t", tiny_json)
    tok = load_tokenizer(d / "tokenizer.json")
    assert isinstance(tok, Tokenizer)
    assert tok.encode("hello world") == [259, 263]
    assert tok.bos_token is None and tok.eos_token is None  # nothing says which they are
    assert tok.vocab_size == 267 and tok.special_token_ids == {264, 265, 266}
    assert list(tok.all_special_tokens) == ["<|bos|>", "<|eos|>", "<|pad|>"]
    assert tok.name_or_path == str(d / "tokenizer.json")


def test_directory_with_added_token_dict_forms(tmp_path: Path, tiny_json: bytes) -> None:
    d = _write_dir(
        tmp_path / "t",
        tiny_json,
        {
            "bos_token": {"__type": "AddedToken", "content": "<|bos|>", "lstrip": False},
            "eos_token": None,
            "chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "t"}],
        },
    )
    (d / "special_tokens_map.json").write_text(
        json.dumps({"eos_token": {"content": "<|eos|>"}, "pad_token": "<|pad|>"}), encoding="utf-8"
    )
    tok = get_tokenizer(str(d))
    assert (tok.bos_token, tok.bos_token_id) == ("<|bos|>", 264)
    assert (tok.eos_token, tok.eos_token_id) == ("<|eos|>", 265)  # null in config, filled by the map
    assert getattr(tok, "pad_token_id", None) == 266
    assert getattr(tok, "chat_template", None) == "{{ x }}"
    assert tok.encode("hello", add_special_tokens=True) == [264, 259]


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match=r"cfg.json:bos_token"):
        parse_tokenizer_config({"bos_token": 5}, source="cfg.json")
    with pytest.raises(ValidationError, match=r"added_tokens_decoder.x"):
        parse_tokenizer_config({"added_tokens_decoder": {"x": {"content": "a"}}})


def test_tiktoken_directory_uses_config_table_and_caches_conversion(tmp_path: Path) -> None:
    d = tmp_path / "kimi_like"
    d.mkdir()
    (d / "tiktoken.model").write_bytes(tiny_tiktoken_bytes())
    # An unknown rank file named like Kimi's: Kimi's table, overridden by added_tokens_decoder.
    (d / "tokenizer_config.json").write_text(
        json.dumps({"added_tokens_decoder": {"264": {"content": "[MYBOS]", "special": True}}}), encoding="utf-8"
    )
    with pytest.warns(UserWarning, match="not a known release"):
        tok = load_tokenizer(d)
    # specials follow the 264 ranks, as Kimi's code numbers them; the config renamed the first
    assert tok.token_to_id("[MYBOS]") == 264 and tok.token_to_id("[EOS]") == 265
    assert tok.token_to_id("[PAD]") == 264 + 255 and tok.vocab_size == 264 + 256
    assert tok.eos_token == "[EOS]" and tok.eos_token_id == 265  # family default: config said nothing
    assert tok.encode("hello world[EOS]") == [259, 263, 265]
    converted = list((tmp_path / "tl_cache" / "tokenizers" / "tiktoken").glob("*/tokenizer.json"))
    assert len(converted) == 1
    mtime = converted[0].stat().st_mtime_ns
    loader.clear_cache()
    with pytest.warns(UserWarning):
        load_tokenizer(d)
    assert converted[0].stat().st_mtime_ns == mtime  # reused, not rewritten


def test_tiktoken_file_with_explicit_family(tmp_path: Path) -> None:
    f = tmp_path / "ranks.bin"
    f.write_bytes(tiny_tiktoken_bytes())
    tok = load_tokenizer(f, family="llama3")
    assert tok.bos_token_id == 264 and tok.eos_token_id == 264 + 9
    assert tok.encode("hello<|eot_id|>") == [259, 273]
    assert tok.id_to_token(264 + 255) == "<|reserved_special_token_247|>"
    with pytest.raises(ValidationError, match="pass family="):
        load_tokenizer(f)
    with pytest.raises(ValidationError, match="unknown tiktoken family"):
        load_tokenizer(f, family="nope")


def test_sentencepiece_model_is_rejected_clearly(tmp_path: Path) -> None:
    f = tmp_path / "tokenizer.model"
    f.write_bytes(b"\x0a\x0b\x00\x01binary protobuf")
    with pytest.raises(ValidationError, match="SentencePiece"):
        load_tokenizer(f)
    with pytest.raises(ValidationError, match=r"no tokenizer\.json"):
        load_tokenizer(tmp_path)


def _cache_repo(cache: Path, repo_id: str, commit: str, tiny_json: bytes, config: dict[str, object]) -> Path:
    """Lay out files the way huggingface_hub does: blobs + relative symlinks in snapshots + refs."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    blobs = repo / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for name, data in (("tokenizer.json", tiny_json), ("tokenizer_config.json", json.dumps(config).encode())):
        blob = blobs / f"{commit[:8]}{name}"
        blob.write_bytes(data)
        os.symlink(os.path.relpath(blob, snap), snap / name)
    return repo


def test_hf_cache_layout_refs_main_offline(
    isolated_caches: Path, tiny_json: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = isolated_caches / "hf_home" / "hub"  # HF_HOME/hub is the default hub cache
    repo = _cache_repo(cache, "org/tiny", COMMIT, tiny_json, {"eos_token": "<|eos|>"})
    _cache_repo(cache, "org/tiny", OTHER, tiny_json, {"eos_token": "<|pad|>"})
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT, encoding="utf-8")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok = get_tokenizer("org/tiny")
    assert tok.eos_token == "<|eos|>" and tok.name_or_path == "org/tiny"
    # a pinned revision picks the other snapshot, without refs
    assert get_tokenizer("org/tiny", revision=OTHER).eos_token == "<|pad|>"
    # the ":suffix" of a cookbook model name is ignored
    assert get_tokenizer("org/tiny:peft").eos_token == "<|eos|>"
    # a models--org--name folder given as a path also works
    assert load_tokenizer(repo).eos_token == "<|eos|>"


def test_hf_hub_cache_env_wins(isolated_caches: Path, tiny_json: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = isolated_caches / "elsewhere"
    _cache_repo(cache, "org/tiny", COMMIT, tiny_json, {})
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert get_tokenizer("org/tiny", revision=COMMIT).encode("hello") == [259]


def test_offline_miss_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(NotCachedError, match="HF_HUB_OFFLINE"):
        get_tokenizer("org/absent")


def test_in_process_cache_returns_same_object(tmp_path: Path, tiny_json: bytes) -> None:
    d = _write_dir(tmp_path / "t", tiny_json)
    a = get_tokenizer(str(d))
    assert get_tokenizer(str(d)) is a
    assert load_tokenizer(d) is load_tokenizer(d)
    loader.clear_cache()
    assert get_tokenizer(str(d)) is not a


def test_backend_env_and_errors(tmp_path: Path, tiny_json: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _write_dir(tmp_path / "t", tiny_json)
    monkeypatch.setenv(loader.BACKEND_ENV, "hf")
    assert getattr(get_tokenizer(str(d)), "backend", None) == "hf"
    monkeypatch.setenv(loader.BACKEND_ENV, "bogus")
    with pytest.raises(ValidationError, match="TINKERLITE_TOKENIZER_BACKEND"):
        get_tokenizer(str(d))
    # Simulate an install without the 'hf' extra and without the pure backend.
    monkeypatch.setattr(
        "tinkerlite.tokenizers.loader.try_import", lambda name: None if name == "tokenizers" else try_import(name)
    )
    monkeypatch.setattr(loader, "_pure_module", lambda: None)
    monkeypatch.setenv(loader.BACKEND_ENV, "hf")
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[hf\]"):
        loader.choose_backend()
    monkeypatch.setenv(loader.BACKEND_ENV, "auto")
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[hf\]"):
        loader.choose_backend()
    with pytest.raises(ValidationError, match="pure-Python tokenizer backend"):
        loader.choose_backend("pure")


def test_auto_falls_back_to_pure_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakePureModule:
        class PureTokenizer:
            pass

    monkeypatch.setattr(
        "tinkerlite.tokenizers.loader.try_import", lambda name: None if name == "tokenizers" else try_import(name)
    )
    monkeypatch.setattr(loader, "_pure_module", lambda: FakePureModule)
    assert loader.choose_backend("auto") == "pure"
    assert loader.choose_backend("pure") == "pure"


def test_pure_backend_if_present(tmp_path: Path, tiny_json: bytes) -> None:
    """When the pure backend is installed, the loader drives it and both backends agree."""
    mod = loader._pure_module()
    if mod is None or not hasattr(mod, "PureTokenizer"):
        pytest.skip("tinkerlite.tokenizers.pure (other developer's module) is not available yet")
    d = _write_dir(tmp_path / "t", tiny_json, {"bos_token": "<|bos|>", "eos_token": "<|eos|>"})
    pure = load_tokenizer(d, backend="pure")
    hf = load_tokenizer(d, backend="hf")
    assert getattr(pure, "backend", None) == "pure"
    for text in ["hello world", "héllo<|eos|> world", ""]:
        assert pure.encode(text) == hf.encode(text)
        assert pure.decode(pure.encode(text)) == text
    assert (pure.bos_token_id, pure.eos_token_id) == (hf.bos_token_id, hf.eos_token_id) == (264, 265)


def test_registry() -> None:
    sentinel = object()
    loader.register_tokenizer("my/tok", lambda: sentinel)
    try:
        assert loader.is_tokenizer_registered("my/tok")
        assert get_tokenizer("my/tok") is sentinel
        assert "my/tok" in loader.get_registered_tokenizer_names()
    finally:
        assert loader.unregister_tokenizer("my/tok")
    assert not loader.unregister_tokenizer("my/tok")


def test_builtin_byte_chat_needs_no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("tinkerlite/byte-chat", "tinkerlite/tiny-chat", "tinkerlite/tiny-chat:peft"):
        tok = get_tokenizer(name)
        assert isinstance(tok, Tokenizer)
        assert tok.decode(tok.encode("hi<|eos|>")) == "hi<|eos|>"
