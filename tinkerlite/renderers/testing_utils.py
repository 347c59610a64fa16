"""Helpers for renderer tests (the cookbook's ``renderers.testing_utils``): normalising
``apply_chat_template`` results across transformers 4/5 and skipping the DeepSeek decode bug.

pytest and transformers are imported only when a helper needs them; without transformers the bug
check is simply off.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__all__ = ["extract_token_ids", "skip_if_deepseek_tokenizer_bug"]  # + skip_deepseek_tokenizer_bug (lazy)


def extract_token_ids(result: Any) -> list[int]:
    """``apply_chat_template`` output as ``list[int]`` (transformers 5 returns a BatchEncoding)."""
    if hasattr(result, "input_ids"):
        return list(result["input_ids"])
    return list(result)


def _transformers_version() -> str | None:
    if importlib.util.find_spec("transformers") is None:
        return None
    return str(importlib.import_module("transformers").__version__)


_VERSION = _transformers_version()
_DEEPSEEK_TOKENIZER_BUG = (
    f"transformers {_VERSION} has a known bug with DeepSeek tokenizer that strips "
    "spaces during decode. See https://github.com/huggingface/transformers/pull/44801"
)
_HAS_DEEPSEEK_TOKENIZER_BUG = _VERSION is not None and (_VERSION == "5.3.0" or _VERSION.startswith("5.6."))


def __getattr__(name: str) -> Any:
    if name == "skip_deepseek_tokenizer_bug":  # a pytest mark: pytest loads only when it is asked for
        import pytest

        return pytest.mark.skipif(_HAS_DEEPSEEK_TOKENIZER_BUG, reason=_DEEPSEEK_TOKENIZER_BUG)
    raise AttributeError(name)


def skip_if_deepseek_tokenizer_bug(model_name: str) -> None:
    """Skip the current test for DeepSeek on a transformers version with the decode bug."""
    if _HAS_DEEPSEEK_TOKENIZER_BUG and "deepseek" in model_name.lower():
        import pytest

        pytest.skip(_DEEPSEEK_TOKENIZER_BUG)
