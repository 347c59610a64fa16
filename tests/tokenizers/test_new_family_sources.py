"""The newer renderer families' tokenizers, offline, from a tokenizer.json / an HF cache folder / a tiktoken
file, through both backends.

No pinned package ships the real tokenizer of Qwen3.5/3.6/3.8, Nemotron 3, Kimi K2.5/K2.6, DeepSeek V4.1 or
GLM-5.3 (see tinkerlite.renderers' docstring), so each is tested with the closest real data that carries its
control tokens: Qwen3's (Qwen3.5/3.8/VL, Nemotron 3), Kimi K2's tiktoken file (K2.5/K2.6), DeepSeek V3.1's
(V4.1) and Qwen3's plus GLM's role tokens (GLM-5.3). Each source must load on both backends, give the same
ids, and keep every control token the family's renderer emits a single token.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import testdata as td
from tests.renderers.tokenizers_for_tests import family_dir
from tinkerlite.tokenizers import Tokenizer, load_tokenizer, loader

pytest.importorskip("tokenizers")

CONTROL: dict[str, tuple[str, ...]] = {
    "qwen3": ("<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>", "<|vision_start|>"),
    "kimi_k2": ("<|im_user|>", "<|im_assistant|>", "<|im_middle|>", "<|im_end|>", "<|tool_calls_section_begin|>"),
    "deepseek_v3_1": ("<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜end▁of▁sentence｜>"),
    "glm5_3_standin": ("[gMASK]", "<sop>", "<|user|>", "<|assistant|>", "<arg_key>", "<think>"),
}
TEXT = "Qwen3.5, Kimi K2.5, DeepSeek V4.1 and GLM-5.3: naïve 中文 😀 code: `x = f(1)`\n\n"


def _hf_cache_layout(src: Path, root: Path) -> Path:
    """``models--org--name/{refs/main, snapshots/<sha>/...}``, as huggingface_hub leaves it."""
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = root / "models--org--model"
    snap = repo / "snapshots" / sha
    snap.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file():
            shutil.copy(f, snap / f.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha, encoding="utf-8")
    return repo


def _check_pair(a: Tokenizer, b: Tokenizer, family: str) -> None:
    assert a.encode(TEXT) == b.encode(TEXT)
    for tok in CONTROL[family]:
        ids = a.encode(tok)
        assert len(ids) == 1, (family, tok, ids)
        assert b.encode(tok) == ids


@pytest.mark.parametrize("family", sorted(CONTROL))
def test_tokenizer_json_and_hf_cache_folder_on_both_backends(family: str, tmp_path: Path) -> None:
    src: Path = td.need(family_dir, family)
    loader.clear_cache()
    for path in (src / "tokenizer.json", _hf_cache_layout(src, tmp_path)):
        hf, pure = load_tokenizer(path, backend="hf"), load_tokenizer(path, backend="pure")
        _check_pair(hf, pure, family)


def test_kimi_tiktoken_file_on_both_backends(tmp_path: Path) -> None:
    """Kimi K2.5/K2.6 ship a tiktoken file: the raw table (with the family's specials) loads like the json."""
    raw: Path = td.need(td.tiktoken_file, "kimi_k2")
    local = tmp_path / "tiktoken.model"
    shutil.copy(raw, local)
    loader.clear_cache()
    hf = load_tokenizer(tmp_path, backend="hf", family="kimi_k2")
    pure = load_tokenizer(tmp_path, backend="pure", family="kimi_k2")
    _check_pair(hf, pure, "kimi_k2")
    ref = load_tokenizer(td.need(family_dir, "kimi_k2"), backend="hf")
    assert hf.encode(TEXT) == ref.encode(TEXT)
    assert hf.encode("<|im_assistant|>") == [163588]
