"""Display names for a recipe's Tinker session (``tinker_cookbook.utils.session_naming``)."""

from __future__ import annotations

import re

__all__ = ["default_cookbook_session_name", "resolve_session_display_name", "slugify"]


def resolve_session_display_name(*, session_name: str | None, wandb_name: str | None) -> str | None:
    """``session_name`` if set, else ``wandb_name`` (session and W&B run share a name), else ``None``.

    Empty strings count as unset.
    """
    if session_name:
        return session_name
    if wandb_name:
        return wandb_name
    return None


def slugify(text: str) -> str:
    """Lowercase, with every run of characters outside ``[a-z0-9]`` collapsed into one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def default_cookbook_session_name(*parts: str | None, wandb_name: str | None = None) -> str:
    """``wandb_name`` when given, else ``cookbook-<slug of parts>`` (``None`` parts skipped).

    ``default_cookbook_session_name("math-rl", "gsm8k") == "cookbook-math-rl-gsm8k"``.
    """
    if wandb_name:
        return wandb_name
    return "-".join(slug for part in ("cookbook", *parts) if part and (slug := slugify(part)))
