"""The gate in front of the cookbook's inspect_ai integration modules.

``eval.inspect_utils``, ``eval.inspect_evaluators``, ``eval.run_inspect_evals`` and
``eval.custom_inspect_task`` are built on inspect_ai, an optional package (the ``inspect`` extra). Each
module calls :func:`load` first, so importing one without inspect_ai raises a
:class:`~tinkerlite.errors.MissingExtraError` naming the extra, instead of a bare ``ModuleNotFoundError``
from deep inside; ``import tinkerlite`` itself never touches inspect_ai.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from ..errors import MissingExtraError

#: The inspect_ai release the integration is tested against (tests/eval/test_inspect_e2e.py).
TESTED_INSPECT_AI = "0.3.285"


def load(module: str, *names: str) -> tuple[Any, ...]:
    """Import inspect_ai's modules ``names`` for ``module``, or raise the error naming the extra."""
    if importlib.util.find_spec("inspect_ai") is None:
        raise MissingExtraError("inspect_ai", "inspect", f"{module} (the inspect_ai evaluation integration)")
    return tuple(importlib.import_module(n) for n in names)
