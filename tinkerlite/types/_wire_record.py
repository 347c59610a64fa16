"""``WireRecord``: a ``JsonRecord`` that checks its field types on construction, as the SDK's pydantic
models do, so a wrong value fails where it is written with the field's name, not at the server.

Checks follow the annotations (``str``, ``int``, ``float``, ``bool``, ``Literal``, unions, ``list``/``dict``
of those, nested records, ``datetime``). Like pydantic, a JSON object given for a record field is parsed
into that record and an ISO-8601 string for a ``datetime`` field is parsed; nothing else is coerced.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from ..errors import ValidationError
from ._record import JsonRecord, parse_datetime

_MISMATCH = object()


class WireRecord(JsonRecord):
    """Subclasses may declare the SDK's ``Field`` constraints per field in ``_bounds``:
    ``{"limit": {"ge": 1, "le": 200}, "owner_urns": {"min_length": 1, "max_length": 10}}``."""

    _hints: ClassVar[dict[str, Any] | None] = None
    _bounds: ClassVar[dict[str, dict[str, float]]] = {}

    def __post_init__(self) -> None:
        cls = type(self)
        if cls.__dict__.get("_hints") is None:
            cls._hints = typing.get_type_hints(cls)  # each base's annotations in its own module
        hints = cls._hints or {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            tp = hints.get(f.name)
            if tp is None:
                continue
            value = getattr(self, f.name)
            out = _check(value, tp)
            if out is _MISMATCH:
                raise ValidationError(
                    f"expected {_describe(tp)}, got {type(value).__name__} {value!r:.60}",
                    field=f"{cls.__name__}.{f.name}",
                )
            if out is not value:
                object.__setattr__(self, f.name, out)
            if f.name in cls._bounds and out is not None:
                _check_bounds(out, cls._bounds[f.name], f"{cls.__name__}.{f.name}")


_BOUND_TESTS: dict[str, tuple[Callable[[Any, float], bool], str]] = {
    "ge": (operator.ge, ">="),
    "gt": (operator.gt, ">"),
    "le": (operator.le, "<="),
    "lt": (operator.lt, "<"),
}


def _check_bounds(value: Any, bounds: dict[str, float], where: str) -> None:
    for key, bound in bounds.items():
        if key in _BOUND_TESTS:
            test, op = _BOUND_TESTS[key]
            if not test(value, bound):
                raise ValidationError(f"must be {op} {bound:g}, got {value!r}", field=where)
        elif key == "min_length" and len(value) < bound:
            raise ValidationError(f"needs at least {bound:g} item(s), got {len(value)}", field=where)
        elif key == "max_length" and len(value) > bound:
            raise ValidationError(f"takes at most {bound:g} item(s), got {len(value)}", field=where)


def _describe(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check(value: Any, tp: Any) -> Any:
    """``value`` (possibly parsed into its record/datetime) if it fits ``tp``, else ``_MISMATCH``."""
    if tp is Any or tp is object:
        return value
    if tp is type(None):
        return value if value is None else _MISMATCH
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or isinstance(tp, types.UnionType):
        for member in args:
            out = _check(value, member)
            if out is not _MISMATCH:
                return out
        return _MISMATCH
    if origin is typing.Literal:
        return value if any(value == a and type(value) is type(a) for a in args) else _MISMATCH
    if origin in (list, tuple, typing.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return _MISMATCH
        item = args[0] if args else Any
        items = [_check(v, item) for v in value]
        if any(v is _MISMATCH for v in items):
            return _MISMATCH
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if origin in (dict, typing.Mapping) or tp is dict:
        if not isinstance(value, dict):
            return _MISMATCH
        if not args:
            return value
        vals = {k: _check(v, args[1]) for k, v in value.items()}
        if any(_check(k, args[0]) is _MISMATCH for k in value) or any(v is _MISMATCH for v in vals.values()):
            return _MISMATCH
        return value if all(vals[k] is value[k] for k in value) else vals
    if tp is bool:
        return value if isinstance(value, bool) else _MISMATCH
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISMATCH
    if tp is float:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _MISMATCH
    if tp is str:
        return value if isinstance(value, str) else _MISMATCH
    if tp is datetime:
        if isinstance(value, str):
            try:
                return parse_datetime(value, "datetime")
            except ValueError:
                return _MISMATCH
        return value if isinstance(value, datetime) else _MISMATCH
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if isinstance(value, dict) and hasattr(tp, "from_json"):
            try:
                return tp.from_json(value)
            except (ValueError, TypeError):
                return _MISMATCH
        if issubclass(tp, enum.Enum):
            try:
                return tp(value)
            except ValueError:
                return _MISMATCH
        return _MISMATCH
    return value  # an annotation this checker does not model: accept, as before
