"""The renderers' error type and the strict-mode switch (imported by every other renderer module)."""

from __future__ import annotations

import os

from tinkerlite.errors import ValidationError

__all__ = ["STRICT_ENV_VAR", "RendererError", "strict_from_env"]


STRICT_ENV_VAR = "TINKERLITE_RENDERER_STRICT"
"""Set to 1/true to make every renderer raise where the cookbook drops data (``make_renderer(strict=...)`` wins)."""


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


class RendererError(ValidationError):
    """A conversation the chosen renderer cannot render faithfully (the message names index and field)."""


def _where(idx: int | None, key: str) -> str:
    return f"messages[{idx}].{key}" if idx is not None else key
