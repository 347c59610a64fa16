"""Real tokenizers for renderer tests: the shared pinned test data through tinkerlite's own loader."""

from __future__ import annotations

import functools
import inspect
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.testdata import data_dir, need, tokenizer_dir
from tinkerlite.tokenizers import load_tokenizer

# DeepSeek V3.1 = the V3 vocabulary with two placeholder added tokens renamed to <think> / </think>.
_V3_1_RENAMES = {128798: "<think>", 128799: "</think>"}


def family_dir(family: str) -> Path:
    """``tests.testdata.tokenizer_dir`` plus ``deepseek_v3_1``, derived from ``deepseek_v3`` (stdlib only).

    The npm DeepSeek files are V3's, where ``<think>`` is plain text; V3.1 (what the cookbook's DeepSeek
    renderers target) has it as a single added token, so its thinking prefill is one token.
    """
    if family != "deepseek_v3_1":
        return tokenizer_dir(family)
    src = tokenizer_dir("deepseek_v3")
    dest = data_dir() / "renderers" / "deepseek_v3_1"
    if not (dest / "tokenizer_config.json").is_file():
        doc = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
        for tok in doc["added_tokens"]:
            if tok["id"] in _V3_1_RENAMES:
                tok["content"] = _V3_1_RENAMES[tok["id"]]
                tok["special"] = False
        dest.mkdir(parents=True, exist_ok=True)
        tmp = dest / "tokenizer.json.tmp"
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, dest / "tokenizer.json")
        shutil.copyfile(src / "tokenizer_config.json", dest / "tokenizer_config.json")
    return dest


class _SplitSpecialAdapter:
    """Adds ``encode(..., split_special_tokens=True)`` (needed by Qwen3 bodies) when the loader lacks it.

    Delegates everything else to the tinkerlite tokenizer; the split encode uses HF ``tokenizers`` on the
    same tokenizer.json with ``encode_special_tokens`` set, exactly what transformers does.
    """

    def __init__(self, inner: Any, family: str) -> None:
        self._inner = inner
        self._family = family

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @functools.cached_property
    def _split(self) -> Any:
        from tokenizers import Tokenizer as HFTokenizer

        tok = HFTokenizer.from_file(str(family_dir(self._family) / "tokenizer.json"))
        tok.encode_special_tokens = True
        return tok

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        if split_special_tokens:
            return list(self._split.encode(text, add_special_tokens=add_special_tokens).ids)
        return list(self._inner.encode(text, add_special_tokens=add_special_tokens))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return str(self._inner.decode(ids, skip_special_tokens=skip_special_tokens))


@functools.cache
def load(family: str) -> Any:
    tok = load_tokenizer(need(family_dir, family))
    if "split_special_tokens" in inspect.signature(tok.encode).parameters:
        return tok
    return _SplitSpecialAdapter(tok, family)
