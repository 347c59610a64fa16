"""The gate in front of the cookbook's inspect_ai integration modules.

``eval.inspect_evaluators``, ``eval.inspect_utils``, ``eval.run_inspect_evals`` and
``eval.custom_inspect_task`` adapt Tinker sampling to inspect_ai's model API. tinkerlite does not ship that
adapter: importing one of those modules raises an ImportError that says what to do — install the extra
when inspect_ai is missing, or run the cookbook's own module (tinker_cookbook) when it is present.
"""

from __future__ import annotations

import importlib.util

from ..errors import MissingExtraError


def refuse(module: str) -> None:
    """Raise the ImportError for ``module`` (never returns)."""
    if importlib.util.find_spec("inspect_ai") is None:
        raise MissingExtraError("inspect_ai", "inspect", f"{module} (the inspect_ai evaluation integration)")
    raise ImportError(
        f"{module}: tinkerlite does not port the inspect_ai integration; inspect_ai is installed, so use "
        f"tinker_cookbook.{module.removeprefix('tinkerlite.')} with the official SDK (or point it at "
        "`tinkerlite serve` through TINKER_BASE_URL)"
    )
