"""The built-in byte tokenizer of the local server's ``tinkerlite/tiny-chat`` model.

It needs no download, so the README's main job and the whole test suite run offline. Ids 0..255 are
raw UTF-8 bytes, a few specials follow, and the rest of the 512-id table is reserved so the model's
embedding size never has to change when a special is added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

__all__ = ["BYTE_CHAT_TOKENIZER_ID", "ByteChatTokenizer"]

BYTE_CHAT_TOKENIZER_ID = "tinkerlite/byte-chat"
_SPECIALS = {"<|bos|>": 256, "<|eos|>": 257, "<|im_start|>": 258, "<|im_end|>": 259}
_VOCAB_SIZE = 512
_SPECIAL_RE = re.compile("|".join(re.escape(s) for s in _SPECIALS))


class ByteChatTokenizer:
    """Satisfies :class:`tinkerlite.tokenizers.base.Tokenizer`."""

    name_or_path = BYTE_CHAT_TOKENIZER_ID
    bos_token = "<|bos|>"
    eos_token = "<|eos|>"
    bos_token_id = _SPECIALS["<|bos|>"]
    eos_token_id = _SPECIALS["<|eos|>"]
    vocab_size = _VOCAB_SIZE

    def __init__(self) -> None:
        self._id_to_special = {v: k for k, v in _SPECIALS.items()}

    @property
    def special_token_ids(self) -> AbstractSet[int]:
        return frozenset(_SPECIALS.values())

    @property
    def all_special_tokens(self) -> Sequence[str]:
        return list(_SPECIALS)

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        out: list[int] = [self.bos_token_id] if add_special_tokens else []
        if split_special_tokens:
            return out + list(text.encode("utf-8"))
        pos = 0
        for m in _SPECIAL_RE.finditer(text):
            out.extend(text[pos : m.start()].encode("utf-8"))
            out.append(_SPECIALS[m.group()])
            pos = m.end()
        out.extend(text[pos:].encode("utf-8"))
        return out

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
        return [self.encode(t, add_special_tokens) for t in texts]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        parts: list[str] = []
        buf = bytearray()
        for i in ids:
            if 0 <= i < 256:
                buf.append(i)
                continue
            if buf:
                parts.append(buf.decode("utf-8", errors="replace"))
                buf.clear()
            special = self._id_to_special.get(i)
            if special is not None:
                if not skip_special_tokens:
                    parts.append(special)
            elif not skip_special_tokens:
                parts.append(f"<|reserved_{i}|>")
        if buf:
            parts.append(buf.decode("utf-8", errors="replace"))
        return "".join(parts)

    def token_to_id(self, token: str) -> int | None:
        if token in _SPECIALS:
            return _SPECIALS[token]
        b = token.encode("utf-8")
        return b[0] if len(b) == 1 else None

    def id_to_token(self, id: int) -> str | None:
        if 0 <= id < 256:
            return bytes([id]).decode("latin-1")
        if id in self._id_to_special:
            return self._id_to_special[id]
        return f"<|reserved_{id}|>" if 256 <= id < _VOCAB_SIZE else None
