from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.renderers import Renderer, get_renderer
from tinkerlite.tokenizers.byte_level import ByteChatTokenizer


@pytest.fixture
def tokenizer() -> ByteChatTokenizer:
    return ByteChatTokenizer()


@pytest.fixture
def renderer(tokenizer: ByteChatTokenizer) -> Renderer:
    return get_renderer("role_colon", tokenizer)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def conv(q: str, a: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
