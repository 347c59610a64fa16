"""The renderers' error type and the strict-mode switch (imported by every other renderer module)."""

from __future__ import annotations

import logging
import os
from typing import Any

from tinkerlite.errors import ValidationError

__all__ = ["STRICT_ENV_VAR", "RendererError", "strict_from_env", "warn_drop"]

logger = logging.getLogger("tinkerlite.renderers")


STRICT_ENV_VAR = "TINKERLITE_RENDERER_STRICT"
"""Set to 1/true to make every renderer raise where the cookbook drops data (``make_renderer(strict=...)`` wins)."""


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


class RendererError(ValidationError):
    """A conversation the chosen renderer cannot render faithfully (the message names index and field)."""


def _where(idx: int | None, key: str) -> str:
    return f"messages[{idx}].{key}" if idx is not None else key


def warn_drop(renderer: Any, kind: str, detail: str) -> None:
    """Log, once per renderer and ``kind``, that input was dropped or defaulted as the cookbook does."""
    seen: set[str] = renderer.__dict__.setdefault("_warned_drops", set())
    if kind in seen:
        return
    seen.add(kind)
    logger.warning(
        "%s %s. This is what tinker-cookbook does; it is logged once per renderer. Set strict=True "
        "(make_renderer(..., strict=True) or %s=1) to raise instead.",
        type(renderer).__name__,
        detail,
        STRICT_ENV_VAR,
    )
