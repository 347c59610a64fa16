"""The ``user_metadata`` a recipe attaches to its ServiceClient (``tinker_cookbook.utils.git_rev``).

The cookbook stores its own build version under ``git_rev`` (no ``git`` subprocess, works for wheels);
tinkerlite stores tinkerlite's version there.
"""

from __future__ import annotations

from .._version import __version__

__all__ = ["recipe_user_metadata"]


def recipe_user_metadata(recipe_name: str) -> dict[str, str]:
    """``{"recipe_name": recipe_name, "git_rev": <package version>}``."""
    return {"recipe_name": recipe_name, "git_rev": __version__}
