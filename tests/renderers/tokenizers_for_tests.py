"""Real tokenizers for renderer tests: the shared pinned test data through tinkerlite's own loader.

``deepseek_v3_1`` (what the cookbook's DeepSeek renderers target: ``<think>``/``</think>`` are added tokens
128798/128799) is one of ``tests.testdata``'s families, derived there from the pinned DeepSeek V3 file.
"""

from __future__ import annotations

import functools
from pathlib import Path

from tests.testdata import need, tokenizer_dir
from tinkerlite.tokenizers import Tokenizer, load_tokenizer


def family_dir(family: str) -> Path:
    """``tests.testdata.tokenizer_dir`` (kept under this name for the golden generator and older tests)."""
    return tokenizer_dir(family)


@functools.cache
def load(family: str) -> Tokenizer:
    return load_tokenizer(need(tokenizer_dir, family))
