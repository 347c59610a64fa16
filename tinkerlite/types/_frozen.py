"""A small base for immutable records that validate in ``__post_init__``."""

from __future__ import annotations

from typing import Any


def set_frozen(obj: Any, name: str, value: Any) -> None:
    """Assign inside ``__post_init__`` of a frozen dataclass (normalising a field)."""
    object.__setattr__(obj, name, value)
