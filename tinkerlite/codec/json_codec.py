"""JSON with the official SDK's conventions: ``None`` omitted, NaN/Infinity refused.

``orjson`` is used when installed (the ``fast`` extra); both paths produce the same bytes for the
values the API carries (compact separators, UTF-8, keys in insertion order).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .._optional import try_import
from ..errors import ProtocolError, ValidationError

__all__ = ["drop_none", "dumps", "loads"]

_orjson = None
_checked = False


def _fast() -> Any:
    global _orjson, _checked
    if not _checked:
        _orjson = try_import("orjson")
        _checked = True
    return _orjson


def drop_none(obj: Any) -> Any:
    """Recursively remove ``None``-valued keys (``exclude_none``); list items are kept as they are."""
    if isinstance(obj, dict):
        return {k: drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        if obj and type(obj[0]) in (int, float) and _all_numbers(obj):
            return obj  # token ids, weights, logprobs: nothing inside to drop, and no copy of them
        return [drop_none(v) for v in obj]
    return obj


def _all_numbers(values: list[Any]) -> bool:
    """Every item a number, decided by one C-level pass (``math.fsum`` raises TypeError on anything else)."""
    try:
        math.fsum(values)
    except TypeError:
        return False
    except OverflowError:  # huge values stop the sum early: the rest is unknown
        return all(type(v) in (int, float) for v in values)
    return True


def _reject_nonfinite(obj: Any, path: str) -> None:
    if type(obj) is list and obj and type(obj[0]) in (float, int):
        try:
            if math.isfinite(math.fsum(obj)):  # C-level pass over a numeric list: the common case
                return
        except (TypeError, OverflowError):
            pass  # mixed types or huge values: check one by one below
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValidationError(f"{obj!r} cannot be sent as JSON", field=path or "body")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _reject_nonfinite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _reject_nonfinite(v, f"{path}[{i}]")


def dumps(obj: Any, *, exclude_none: bool = True) -> bytes:
    """Serialise a request body; ``to_json()`` records are accepted directly."""
    if hasattr(obj, "to_json") and callable(obj.to_json):
        obj = obj.to_json()
    if exclude_none:
        obj = drop_none(obj)
    fast = _fast()
    if fast is not None:
        out: bytes = fast.dumps(obj)
        # orjson writes NaN and ±inf as null, silently: walk the body for them only when a null is there
        # (with exclude_none, that is a None list item, a NaN, or the text "null" in a string).
        if b"null" in out:
            _reject_nonfinite(obj, "")
        return out
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError:
        _reject_nonfinite(obj, "")
        raise


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a response body; malformed JSON becomes :class:`ProtocolError`."""
    fast = _fast()
    try:
        if fast is not None:
            return fast.loads(bytes(data) if isinstance(data, memoryview) else data)
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data).decode("utf-8")
        return json.loads(data, parse_constant=_no_constants)
    except ProtocolError:
        raise
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"malformed JSON: {e}") from None


def _no_constants(name: str) -> Any:
    raise ProtocolError(f"JSON constant {name} is not allowed")
