"""Tokenizers: one :class:`Tokenizer` protocol, two backends (HF ``tokenizers`` or pure Python), one loader.

``get_tokenizer("Qwen/Qwen3-8B")`` works like the cookbook's, without transformers; see
:mod:`tinkerlite.tokenizers.loader` for where files come from and how the backend is chosen.
"""

from __future__ import annotations

from .base import Tokenizer
from .loaded import LoadedTokenizer
from .loader import get_tokenizer, load_tokenizer

__all__ = ["LoadedTokenizer", "Tokenizer", "get_tokenizer", "load_tokenizer"]
