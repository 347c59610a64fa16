"""Stdlib-only tokenizer backend: exact byte-level BPE for tokenizer.json and tiktoken rank files.

Used when HF ``tokenizers`` is not importable (Pyodide, musl, locked-down images) or when
``TINKERLITE_TOKENIZER_BACKEND=pure``; encodes to the same ids as ``tokenizers``.
"""

from __future__ import annotations

from .tokenizer import PureTokenizer

__all__ = ["PureTokenizer"]
