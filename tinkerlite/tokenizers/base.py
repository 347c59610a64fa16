"""The one tokenizer interface every tinkerlite layer codes against.

Both backends (HF ``tokenizers`` in :mod:`tinkerlite.tokenizers.hf`, pure Python in
:mod:`tinkerlite.tokenizers.pure`) satisfy this structural protocol, so renderers never know which one
they got.

Defaults deliberately differ from HF ``tokenizers``:

* ``encode(..., add_special_tokens=False)``: a tokenizer.json with a BOS post-processor (Llama 3, DeepSeek)
  prepends BOS when special tokens are added. Renderers encode each segment separately and add BOS
  themselves, so a silent extra BOS per segment would corrupt every prompt.
* ``decode(..., skip_special_tokens=False)``: ``tokenizers`` skips special tokens by default, which makes
  ``<|im_end|>``/``<|eot_id|>`` vanish from decoded text and breaks response parsing.

Special tokens written literally in the text (``"<|im_start|>user"``) are always matched as special
tokens by ``encode``, as HF ``tokenizers`` does; renderers rely on that.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol, runtime_checkable

__all__ = ["NamedSpecialTokens", "Tokenizer"]


@runtime_checkable
class Tokenizer(Protocol):
    """Structural type of a loaded tokenizer (read-only properties may be plain attributes)."""

    @property
    def name_or_path(self) -> str:
        """The name or path it was loaded from (a hub id like ``Qwen/Qwen3-8B`` or a local path)."""
        ...

    @property
    def bos_token(self) -> str | None: ...

    @property
    def eos_token(self) -> str | None: ...

    @property
    def bos_token_id(self) -> int | None: ...

    @property
    def eos_token_id(self) -> int | None: ...

    @property
    def vocab_size(self) -> int:
        """Number of ids, added/special tokens included (``max id + 1`` for dense vocabularies)."""
        ...

    @property
    def special_token_ids(self) -> AbstractSet[int]:
        """Ids of the added tokens flagged ``special`` (what ``skip_special_tokens`` drops)."""
        ...

    @property
    def all_special_tokens(self) -> Sequence[str]:
        """Contents of the special added tokens, in id order."""
        ...

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        """``split_special_tokens=True`` encodes special-token strings in ``text`` as plain text (what
        Qwen3 does for message bodies, so a user typing ``<|im_end|>`` cannot end the turn)."""
        ...

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str: ...

    def token_to_id(self, token: str) -> int | None:
        """Id of a vocabulary or added token given in its tokenizer.json spelling; None if unknown."""
        ...

    def id_to_token(self, id: int) -> str | None:
        """tokenizer.json spelling of an id (byte-level form for BPE tokens); None if out of range."""
        ...


class NamedSpecialTokens:
    """The naming half of :class:`Tokenizer`, shared by the backends: set ``_name_or_path``,
    ``_bos_token`` and ``_eos_token``; ids are looked up through ``token_to_id``."""

    _name_or_path: str
    _bos_token: str | None
    _eos_token: str | None

    def token_to_id(self, token: str) -> int | None:
        raise NotImplementedError

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
