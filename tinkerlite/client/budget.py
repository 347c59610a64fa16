"""Per-call retry budgets and per-server protocol fallbacks, shared by the holder's retry layers."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

from ..types._lazy import dataclass


@dataclass
class RetryBudget:
    """One call's retry budget, shared by both retry layers: the attempt in flight counts too."""

    deadline: float  # holder clock
    budget_s: float
    first_failure_wall: float | None = None

    def failed(self, wall: float) -> None:
        if self.first_failure_wall is None:
            self.first_failure_wall = wall


BUDGET: contextvars.ContextVar[RetryBudget | None] = contextvars.ContextVar("tinkerlite_budget", default=None)
#: Per server URL: optional request fields it refused (422) while they held their default value.
LEGACY_FIELDS: dict[str, set[str]] = {}
MISSING = object()


def without_dropped(url: str, body: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` less the fields ``url`` refused before while they hold their default."""
    dropped = LEGACY_FIELDS.get(url, set())
    return {k: v for k, v in body.items() if not (k in dropped and defaults.get(k, MISSING) == v)}


def refused_defaults(url: str, body: Mapping[str, Any], defaults: Mapping[str, Any], answer: str) -> list[str]:
    """The default-valued fields a 422 ``answer`` names; remembered for ``url`` from now on."""
    names = [k for k in defaults if k in body and body[k] == defaults[k] and k in answer]
    LEGACY_FIELDS.setdefault(url, set()).update(names)
    return names
