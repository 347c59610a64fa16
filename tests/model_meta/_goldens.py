"""Shared access to tests/golden/hyperparam_goldens.json (produced by the official cookbook)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

GOLDENS_PATH = Path(__file__).resolve().parents[1] / "golden" / "hyperparam_goldens.json"

# Our own local model: the official cookbook does not know it (it raises ConfigurationError), so tinkerlite
# deliberately answers where the cookbook errors; its numbers are checked against tinkerlite.local instead.
LOCAL_ONLY = {"tinkerlite/tiny-chat"}


@cache
def goldens() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDENS_PATH.read_text(encoding="utf-8"))
    return data


def official_models() -> list[str]:
    return sorted(name for name in goldens()["models"] if name not in LOCAL_ONLY)


def check_outcome(expected: dict[str, Any], fn: Any, *args: Any, **kwargs: Any) -> None:
    """Call ``fn`` and compare with a recorded official outcome: the exact value, or the same error kind.

    Error kinds are compared by the standard bases the caller may catch (ValueError / KeyError /
    NotImplementedError), since tinkerlite has its own exception classes.
    """
    import pytest

    if "value" in expected:
        assert fn(*args, **kwargs) == expected["value"]
        return
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    exc = info.value
    if expected["is_not_implemented"]:
        assert isinstance(exc, NotImplementedError), exc
    if expected["is_value_error"]:
        assert isinstance(exc, ValueError), exc
    if expected["is_key_error"]:
        assert isinstance(exc, KeyError), exc
