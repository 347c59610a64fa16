"""Real tokenizers for renderer tests: the shared pinned test data through tinkerlite's own loader.

``deepseek_v3_1`` (what the cookbook's DeepSeek renderers target: ``<think>``/``</think>`` are added tokens
128798/128799) is one of ``tests.testdata``'s families, derived there from the pinned DeepSeek V3 file.

Stand-ins (:data:`STANDINS`) are for families whose real tokenizer no pinned package ships and whose
renderer needs control tokens no real tokenizer we have carries: a real tokenizer plus those tokens, added
as special tokens after its last id. The cookbook goldens are made with the same file, so every token the
renderer emits is still pinned (the text between control tokens is split as that base tokenizer splits it).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from tests.testdata import data_dir, need, tokenizer_dir
from tinkerlite.tokenizers import Tokenizer, load_tokenizer
from tinkerlite.utils.files import atomic_write_bytes

# name -> (base family, control tokens GLM-5.3's renderer needs as single tokens).
STANDINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "glm5_3_standin": (
        "qwen3",
        (
            "[gMASK]",
            "<sop>",
            "<|system|>",
            "<|user|>",
            "<|assistant|>",
            "<|observation|>",
            "<arg_key>",
            "</arg_key>",
            "<arg_value>",
            "</arg_value>",
        ),
    ),
}


def _standin_dir(name: str) -> Path:
    base, extra = STANDINS[name]
    src = tokenizer_dir(base)
    dest = data_dir() / "renderer-standins" / f"{name}-v1"
    if (dest / "tokenizer.json").is_file() and (dest / "tokenizer_config.json").is_file():
        return dest
    doc = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    next_id = 1 + max([*doc["model"]["vocab"].values(), *(t["id"] for t in doc["added_tokens"])])
    for i, content in enumerate(extra):
        doc["added_tokens"].append(
            {
                "id": next_id + i,
                "content": content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
        )
    dest.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest / "tokenizer_config.json", (src / "tokenizer_config.json").read_bytes())
    atomic_write_bytes(dest / "tokenizer.json", json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return dest


def family_dir(family: str) -> Path:
    """``tests.testdata.tokenizer_dir``, or a stand-in's directory (also used by the golden generator)."""
    return _standin_dir(family) if family in STANDINS else tokenizer_dir(family)


@functools.cache
def load(family: str) -> Tokenizer:
    return load_tokenizer(need(family_dir, family))
