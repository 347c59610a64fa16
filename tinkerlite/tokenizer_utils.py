"""Cookbook-path shim: ``from tinkerlite.tokenizer_utils import get_tokenizer, Tokenizer``.

Same names and call signatures as ``tinker_cookbook.tokenizer_utils`` (0.6.1), backed by
:mod:`tinkerlite.tokenizers` instead of transformers: no ``AutoTokenizer``, no remote code. The returned
objects satisfy :class:`tinkerlite.tokenizers.Tokenizer` (``encode(text, add_special_tokens=False)``,
``decode(ids)`` keeping special tokens, ``bos_token``/``eos_token_id`` ...), plus the transformers spellings
cookbook code uses (``convert_tokens_to_ids``, ``all_special_ids``, ``name_or_path``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias, cast, runtime_checkable

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
    "SupportsTmlTokenizer",
    "TmlRenderersTokenizerAdapter",
    "TmlRenderersUnavailableError",
    "TmlTokenizer",
    "TmlTokenizerFamily",
    "Tokenizer",
    "encode_without_special_tokens",
    "ensure_tml_renderers_importable",
    "get_registered_tokenizer_names",
    "get_tokenizer",
    "is_tml_renderers_model",
    "is_tokenizer_registered",
    "register_tokenizer",
    "unregister_tokenizer",
]


def get_tokenizer(model_name: str) -> Tokenizer:
    """The tokenizer for a hub model id (e.g. ``"Qwen/Qwen3-8B"``), a local path, or a registered name.

    Cached per process. Backend from ``$TINKERLITE_TOKENIZER_BACKEND`` (hf|pure|auto). As in the cookbook,
    tml-renderers models (``thinkingmachines/Inkling*``, ``moonshotai/Kimi-K3.1-Pro``) get a
    :class:`TmlRenderersTokenizerAdapter`; Inkling's o200k_base_chat tokenizer is tinkerlite's own.
    """
    if not loader.is_tokenizer_registered(model_name) and (family := _tml_tokenizer_family(model_name)) is not None:
        return cast(Tokenizer, TmlRenderersTokenizerAdapter(model_name, _load_tml_tokenizer(family)))
    return loader.get_tokenizer(model_name)


# ---- tml-renderers models (the cookbook's Tml* names) -------------------------------------------------

_NOT_ON_PYPI = (
    "tml-renderers>=0.4.1, which tinker-cookbook 0.6.1 pins, is not on PyPI (0.2.1 is the newest release there "
    "and has only the TMLv0 renderer and the o200k_base_chat tokenizer)"
)


class TmlRenderersUnavailableError(ModuleNotFoundError):
    """What a model or renderer needs from ``tml_renderers`` is not installed (the message says what)."""


def ensure_tml_renderers_importable() -> None:
    """Make ``tml_renderers`` importable, falling back to ``TML_RENDERERS_SOURCE_DIR`` (as the cookbook)."""
    if importlib.util.find_spec("tml_renderers") is not None:
        return
    if env_path := os.environ.get("TML_RENDERERS_SOURCE_DIR"):
        source_dir = Path(env_path).expanduser()
        if (source_dir / "tml_renderers").exists():
            source_str = str(source_dir)
            inserted = source_str not in sys.path
            if inserted:
                sys.path.insert(0, source_str)
            if importlib.util.find_spec("tml_renderers") is not None:
                return
            if inserted:
                sys.path.remove(source_str)
    raise TmlRenderersUnavailableError(
        "Could not import dependency 'tml_renderers'. tinkerlite does not need it for tml_v0 (it has its own "
        f"TMLv0 renderer); it is needed only for what tinkerlite does not port. Note: {_NOT_ON_PYPI}. Install it "
        "(`pip install tml-renderers`), or set TML_RENDERERS_SOURCE_DIR to a directory containing the "
        "tml_renderers package."
    )


class TmlTokenizer(Protocol):
    """The small surface of a ``tml_renderers`` tokenizer that the adapter and renderers use."""

    bos_token: str
    eos_token: str

    def encode_ordinary(self, text: str) -> Sequence[int]: ...

    def decode(self, token_ids: list[int]) -> str: ...

    def encode_special(self, text: str) -> int: ...


@runtime_checkable
class SupportsTmlTokenizer(Protocol):
    """Tokenizer facade that exposes an underlying :class:`TmlTokenizer`."""

    tml_tokenizer: TmlTokenizer


TmlTokenizerFamily: TypeAlias = Literal["o200k_base_chat", "h200k_base_chat", "kimi_k3"]


def _tml_tokenizer_family(model_name: str) -> TmlTokenizerFamily | None:
    """The tml-renderers tokenizer family of a model, or None for an ordinary (HF-format) tokenizer."""
    base_model_name = model_name.split(":", 1)[0]
    if base_model_name == "thinkingmachines/Inkling-2-Small":
        return "h200k_base_chat"
    if base_model_name.startswith("thinkingmachines/Inkling"):
        return "o200k_base_chat"
    if base_model_name.startswith("moonshotai/Kimi-K3.1-Pro"):
        return "kimi_k3"
    return None


def is_tml_renderers_model(model_name: str) -> bool:
    """Return whether tml-renderers tokenizes ``model_name``."""
    return _tml_tokenizer_family(model_name) is not None


_TML_CLASSES: dict[str, str] = {"h200k_base_chat": "H200kBaseChatTokenizer", "kimi_k3": "KimiK3Tokenizer"}


def _load_tml_tokenizer(family: TmlTokenizerFamily) -> TmlTokenizer:
    """o200k_base_chat is tinkerlite's own; the others come from an installed tml-renderers that has them."""
    if family == "o200k_base_chat":
        from .tokenizers.o200k_chat import O200kBaseChatTokenizer

        return O200kBaseChatTokenizer()
    cls_name = _TML_CLASSES[family]
    missing = TmlRenderersUnavailableError(
        f"the {family} tokenizer is tml-renderers' {cls_name}, compiled into tml-renderers>=0.4.1 with "
        f"tables no public file describes; {_NOT_ON_PYPI}. Install a tml-renderers release that has {cls_name}."
    )
    if importlib.util.find_spec("tml_renderers") is None:
        raise missing
    tokenizers = importlib.import_module("tml_renderers.tokenizers")
    if not hasattr(tokenizers, cls_name):
        raise missing
    return cast(TmlTokenizer, getattr(tokenizers, cls_name)())


class TmlRenderersTokenizerAdapter:
    """Small tokenizer facade for ``tml_renderers`` models used through the cookbook API."""

    eos_token_id: int | None = None
    tml_tokenizer: TmlTokenizer

    def __init__(self, name_or_path: str, tml_tokenizer: TmlTokenizer):
        self.name_or_path = name_or_path
        self.tml_tokenizer = tml_tokenizer
        self.bos_token = self.tml_tokenizer.bos_token
        self.eos_token = self.tml_tokenizer.eos_token
        try:
            self.eos_token_id = int(self.tml_tokenizer.encode_special(self.eos_token))
        except Exception:
            self.eos_token_id = None

    def encode(self, text: str, add_special_tokens: bool = False, **_: Any) -> list[int]:
        if add_special_tokens:
            raise ValueError("tml_renderers tokenizer does not support HF-style add_special_tokens")
        return list(self.tml_tokenizer.encode_ordinary(text))

    def decode(self, token_ids: list[int] | tuple[int, ...], **_: Any) -> str:
        return str(self.tml_tokenizer.decode(list(token_ids)))

    def __reduce__(self) -> tuple[Any, tuple[str, TmlTokenizer]]:
        return (TmlRenderersTokenizerAdapter, (self.name_or_path, self.tml_tokenizer))


@runtime_checkable
class SupportsEncodeOrdinary(Protocol):
    def encode_ordinary(self, text: str) -> Sequence[int]: ...


def encode_without_special_tokens(tokenizer: Tokenizer | SupportsEncodeOrdinary, text: str) -> list[int]:
    """Encode raw text without adding model-level BOS/EOS tokens."""
    if isinstance(tokenizer, SupportsEncodeOrdinary):
        return list(tokenizer.encode_ordinary(text))
    return list(tokenizer.encode(text, add_special_tokens=False))
