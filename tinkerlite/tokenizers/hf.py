"""Tokenizer backed by HF's Rust ``tokenizers`` package (the ``hf`` extra): the fast path.

``tokenizers`` is imported only when a tokenizer is built, so importing this module is free.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._optional import require

__all__ = ["HFTokenizer", "hf_available"]

_FEATURE = "the 'hf' tokenizer backend"


def hf_available() -> bool:
    from .._optional import try_import

    return try_import("tokenizers") is not None


class HFTokenizer:
    """Adapter from ``tokenizers.Tokenizer`` to :class:`tinkerlite.tokenizers.base.Tokenizer`.

    bos/eos are not part of ``tokenizer.json``; the loader passes them from ``tokenizer_config.json``.
    """

    def __init__(
        self,
        inner: Any,
        *,
        name_or_path: str = "",
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> None:
        self._tok = inner
        self._name_or_path = name_or_path
        self._bos_token = bos_token
        self._eos_token = eos_token
        decoder: dict[int, Any] = inner.get_added_tokens_decoder()
        self._special_ids = frozenset(i for i, tok in decoder.items() if tok.special)
        self._all_special = tuple(decoder[i].content for i in sorted(self._special_ids))
        self._vocab_size = int(inner.get_vocab_size(with_added_tokens=True))

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> HFTokenizer:
        tokenizers = require("tokenizers", _FEATURE)
        return cls(tokenizers.Tokenizer.from_file(str(path)), **kwargs)

    @classmethod
    def from_str(cls, json_text: str, **kwargs: Any) -> HFTokenizer:
        tokenizers = require("tokenizers", _FEATURE)
        return cls(tokenizers.Tokenizer.from_str(json_text), **kwargs)

    @property
    def backend(self) -> str:
        return "hf"

    @property
    def inner(self) -> Any:
        """The wrapped ``tokenizers.Tokenizer`` for callers that need its full API."""
        return self._tok

    @property
    def name_or_path(self) -> str:
        return self._name_or_path

    @property
    def bos_token(self) -> str | None:
        return self._bos_token

    @property
    def eos_token(self) -> str | None:
        return self._eos_token

    @property
    def bos_token_id(self) -> int | None:
        return None if self._bos_token is None else self.token_to_id(self._bos_token)

    @property
    def eos_token_id(self) -> int | None:
        return None if self._eos_token is None else self.token_to_id(self._eos_token)

    @property
    def vocab_size(self) -> int:
        return self._vocab_size

    @property
    def special_token_ids(self) -> frozenset[int]:
        return self._special_ids

    @property
    def all_special_tokens(self) -> tuple[str, ...]:
        return self._all_special

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        tok = self._split_tok() if split_special_tokens else self._tok
        return list(tok.encode(text, add_special_tokens=add_special_tokens).ids)

    def _split_tok(self) -> Any:
        """A copy with ``encode_special_tokens`` set (as transformers' ``split_special_tokens`` does)."""
        split = self.__dict__.get("_split")
        if split is None:
            split = type(self._tok).from_str(self._tok.to_str())
            split.encode_special_tokens = True
            self.__dict__["_split"] = split
        return split

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
        encs = self._tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return [list(e.ids) for e in encs]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return str(self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def token_to_id(self, token: str) -> int | None:
        tid = self._tok.token_to_id(token)
        return None if tid is None else int(tid)

    def id_to_token(self, id: int) -> str | None:
        tok = self._tok.id_to_token(id)
        return None if tok is None else str(tok)

    def __repr__(self) -> str:
        return f"HFTokenizer({self._name_or_path!r}, vocab_size={self._vocab_size})"
