"""The object ``get_tokenizer`` returns: a backend tokenizer plus what ``tokenizer_config.json`` adds.

Backends know ``tokenizer.json``; BOS/EOS, the chat template and the name live in side files. Wrapping gives
callers the same type and the same answers whichever backend runs underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from .base import NamedSpecialTokens

__all__ = ["LoadedTokenizer"]

# Renderers encode the same few short strings (role headers, control tokens, separators) for every message;
# ids of texts this short are memoised per tokenizer. Bounded: past the cap, new texts are simply not stored.
_MEMO_MAX_CHARS = 64
_MEMO_MAX_ENTRIES = 8192
# With the ``auto`` backend, one text up to this long is encoded by the pure backend's pipeline with HF's BPE
# model for new pieces (when the pure backend loaded the file and agreed with HF on the probe texts). Measured
# single-threaded on the renderer bench's text: 1.6x faster than HF at 1k chars, 2x at 4k-256k. Longer texts
# and every ``encode_batch`` (Rust, parallel across texts) go to HF.
SHORT_ENCODE_MAX_CHARS = 262_144


class LoadedTokenizer(NamedSpecialTokens):
    """Implements :class:`tinkerlite.tokenizers.base.Tokenizer` by delegation.

    The backend is treated as immutable once wrapped (short encodings are memoised): to add tokens, build a
    new tokenizer file and load that.
    """

    def __init__(
        self,
        inner: Any,
        *,
        backend: str,
        name_or_path: str,
        bos_token: str | None,
        eos_token: str | None,
        pad_token: str | None = None,
        chat_template: str | None = None,
        short_inner: Any = None,
    ) -> None:
        self._inner = inner
        self._short = short_inner
        self.backend = backend
        self.short_encode_backend: str | None = "pure" if short_inner is not None else None
        """``pure`` when single short encodes go to the pure backend (``auto``); else None (all to ``backend``)."""
        self._name_or_path = name_or_path
        self._bos_token = bos_token
        self._eos_token = eos_token
        self.pad_token = pad_token
        self.chat_template = chat_template
        self._memo: dict[str, tuple[int, ...]] = {}

    @property
    def inner(self) -> Any:
        """The backend object (``HFTokenizer`` or ``PureTokenizer``)."""
        return self._inner

    @property
    def pad_token_id(self) -> int | None:
        return None if self.pad_token is None else self.token_to_id(self.pad_token)

    @property
    def vocab_size(self) -> int:
        return int(self._inner.vocab_size)

    @property
    def special_token_ids(self) -> AbstractSet[int]:
        ids: AbstractSet[int] = self._inner.special_token_ids
        return ids

    @property
    def all_special_tokens(self) -> Sequence[str]:
        toks: Sequence[str] = self._inner.all_special_tokens
        return toks

    @property
    def all_special_ids(self) -> list[int]:
        """transformers spelling, for cookbook code that asks for it."""
        return sorted(self.special_token_ids)

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        inner = self._short if self._short is not None and len(text) <= SHORT_ENCODE_MAX_CHARS else self._inner
        if split_special_tokens:
            return list(inner.encode(text, add_special_tokens=add_special_tokens, split_special_tokens=True))
        if add_special_tokens or len(text) > _MEMO_MAX_CHARS:
            return list(inner.encode(text, add_special_tokens=add_special_tokens))
        hit = self._memo.get(text)
        if hit is None:
            hit = tuple(inner.encode(text, add_special_tokens=False))
            if len(self._memo) < _MEMO_MAX_ENTRIES:
                self._memo[text] = hit
        return list(hit)

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
        return [list(x) for x in self._inner.encode_batch(texts, add_special_tokens=add_special_tokens)]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return str(self._inner.decode(ids, skip_special_tokens=skip_special_tokens))

    def token_to_id(self, token: str) -> int | None:
        tid = self._inner.token_to_id(token)
        return None if tid is None else int(tid)

    def id_to_token(self, id: int) -> str | None:
        tok = self._inner.id_to_token(id)
        return None if tok is None else str(tok)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int | None] | None:
        """transformers spelling, for cookbook code that asks for it."""
        if isinstance(tokens, str):
            return self.token_to_id(tokens)
        return [self.token_to_id(t) for t in tokens]

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"LoadedTokenizer({self._name_or_path!r}, backend={self.backend!r}, vocab_size={self.vocab_size})"
