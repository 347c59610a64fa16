"""Tokenizer backed by HF's Rust ``tokenizers`` package (the ``hf`` extra): the fast path.

``tokenizers`` is imported only when a tokenizer is built, so importing this module is free.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._optional import require
from .base import NamedSpecialTokens

__all__ = ["HFTokenizer", "hf_available"]

_FEATURE = "the 'hf' tokenizer backend"


def hf_available() -> bool:
    from .._optional import try_import

    return try_import("tokenizers") is not None


class HFTokenizer(NamedSpecialTokens):
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
        # ``split_special_tokens`` flips the tokenizer's ``encode_special_tokens`` flag for one call (as
        # transformers does) instead of building a second tokenizer (seconds and ~2x memory for a large
        # vocabulary). Every encode holds this lock, so no call can ever see the flag set by another thread.
        self._encode_lock = threading.Lock()
        # ``encode_batch_fast`` (tokenizers >= 0.21) skips the offsets nobody here reads: same ids, ~15% less time.
        self._has_fast = hasattr(inner, "encode_batch_fast")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_encode_lock"]  # locks do not pickle; a copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._encode_lock = threading.Lock()

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
        """The wrapped ``tokenizers.Tokenizer`` for callers that need its full API.

        Calls on it bypass this adapter's lock: do not use it from another thread while this adapter encodes
        with ``split_special_tokens=True`` (which flips ``encode_special_tokens`` for the duration of the call).
        """
        return self._tok

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
        with self._encode_lock:
            if not split_special_tokens:
                return self._ids(text, add_special_tokens)
            tok = self._tok
            previous = tok.encode_special_tokens
            tok.encode_special_tokens = True
            try:
                return self._ids(text, add_special_tokens)
            finally:
                tok.encode_special_tokens = previous

    def _ids(self, text: str, add_special_tokens: bool) -> list[int]:
        if self._has_fast:
            if not isinstance(text, str):  # the batch call would read a list as a pre-tokenized sequence
                raise TypeError(f"encode() takes a str, got {type(text).__name__}")
            fast: list[int] = self._tok.encode_batch_fast([text], add_special_tokens=add_special_tokens)[0].ids
            return fast
        ids: list[int] = self._tok.encode(text, add_special_tokens=add_special_tokens).ids
        return ids

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
        with self._encode_lock:
            batch = self._tok.encode_batch_fast if self._has_fast else self._tok.encode_batch
            encs = batch(list(texts), add_special_tokens=add_special_tokens)
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
