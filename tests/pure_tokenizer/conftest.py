"""Shared fixtures: the committed corpus and goldens, and per-family tokenizers loaded once per session."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.pure_tokenizer.make_goldens import load_corpus, load_goldens
from tests.testdata import need, tiktoken_file, tokenizer_json
from tinkerlite._optional import try_import
from tinkerlite.tokenizers.pure import PureTokenizer

FAMILIES = ("llama3", "qwen3", "deepseek_v3", "gpt_oss", "kimi_k2")


@functools.cache
def _pure(family: str) -> PureTokenizer:
    return PureTokenizer.from_file(tokenizer_json(family))


@functools.cache
def _hf(family: str) -> Any:
    tokenizers = try_import("tokenizers")
    assert tokenizers is not None
    return tokenizers.Tokenizer.from_file(str(tokenizer_json(family)))


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    return load_corpus()


@pytest.fixture(scope="session")
def goldens() -> dict[str, dict[str, Any]]:
    return load_goldens()


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pure(family: str) -> PureTokenizer:
    return need(_pure, family)


@pytest.fixture
def hf(family: str) -> Any:
    """The oracle: HF ``tokenizers`` on the same tokenizer.json (skipped where it is not installed)."""
    if try_import("tokenizers") is None:
        pytest.skip("HF tokenizers not installed; the golden-digest tests still check exactness")
    return need(_hf, family)


@pytest.fixture
def tiktoken_path(family: str) -> str:
    return str(need(tiktoken_file, family))
