"""Lazy imports of optional packages, with errors that name the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .errors import MissingExtraError

_EXTRA_FOR = {"numpy": "fast", "orjson": "fast", "tokenizers": "hf", "zstandard": "zstd"}


def try_import(name: str) -> ModuleType | None:
    """Return the module, or None when it is not installed (or broken)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def require(name: str, feature: str, extra: str | None = None) -> Any:
    """Import ``name`` or raise :class:`MissingExtraError` explaining how to get it."""
    mod = try_import(name)
    if mod is None:
        raise MissingExtraError(name, extra or _EXTRA_FOR.get(name, "all"), feature)
    return mod
