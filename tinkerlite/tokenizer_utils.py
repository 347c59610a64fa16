"""Cookbook-path shim: ``from tinkerlite.tokenizer_utils import get_tokenizer, Tokenizer``.

Same names and call signatures as ``tinker_cookbook.tokenizer_utils`` (0.6.1), backed by
:mod:`tinkerlite.tokenizers` instead of transformers: no ``AutoTokenizer``, no remote code. The returned
objects satisfy :class:`tinkerlite.tokenizers.Tokenizer` (``encode(text, add_special_tokens=False)``,
``decode(ids)`` keeping special tokens, ``bos_token``/``eos_token_id`` ...), plus the transformers spellings
cookbook code uses (``convert_tokens_to_ids``, ``all_special_ids``, ``name_or_path``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .tokenizers import loader
from .tokenizers.base import Tokenizer
from .tokenizers.loader import (
    get_registered_tokenizer_names,
    is_tokenizer_registered,
    register_tokenizer,
    unregister_tokenizer,
)

__all__ = [
    "SupportsEncodeOrdinary",
    "Tokenizer",
    "encode_without_special_tokens",
    "get_registered_tokenizer_names",
    "get_tokenizer",
    "is_tokenizer_registered",
    "register_tokenizer",
    "unregister_tokenizer",
]


def get_tokenizer(model_name: str) -> Tokenizer:
    """The tokenizer for a hub model id (e.g. ``"Qwen/Qwen3-8B"``), a local path, or a registered name.

    Cached per process. Backend from ``$TINKERLITE_TOKENIZER_BACKEND`` (hf|pure|auto).
    """
    return loader.get_tokenizer(model_name)


@runtime_checkable
class SupportsEncodeOrdinary(Protocol):
    def encode_ordinary(self, text: str) -> Sequence[int]: ...


def encode_without_special_tokens(tokenizer: Tokenizer | SupportsEncodeOrdinary, text: str) -> list[int]:
    """Encode raw text without adding model-level BOS/EOS tokens."""
    if isinstance(tokenizer, SupportsEncodeOrdinary):
        return list(tokenizer.encode_ordinary(text))
    return list(tokenizer.encode(text, add_special_tokens=False))
