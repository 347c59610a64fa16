"""JSON Schema and argument validation from a function signature, without pydantic.

The cookbook builds a pydantic model per ``@tool`` function; the schema the model sees is that model's
``model_json_schema()``. This module produces the same schema for the annotation forms tools use (str,
int, float, bool, None, Any, list/tuple/dict/set, ``X | None``, unions, ``Literal``, ``Annotated[T,
"description"]`` or a pydantic ``Field``), with pydantic's conventions: ``title`` from the field name,
keys sorted, ``anyOf`` for unions, ``default`` only when given. Validation follows pydantic's lax mode for
those types (e.g. ``"3"`` -> 3 for int, ``2.0`` -> 2, ``"true"`` -> True for bool) and ignores extra keys.
"""

from __future__ import annotations

import inspect
import json
import operator
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin

_MISSING: Any = inspect.Parameter.empty
_CONSTRAINTS = {
    "ge": "minimum",
    "gt": "exclusiveMinimum",
    "le": "maximum",
    "lt": "exclusiveMaximum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
    "multiple_of": "multipleOf",
}


class ArgumentError(ValueError):
    """Arguments that do not fit the tool's parameters (message shaped like pydantic's)."""


def _title(name: str) -> str:
    return name.title().replace("_", " ")


def _pydantic_undefined(value: Any) -> bool:
    return type(value).__name__ == "PydanticUndefinedType"


class Param:
    """One parameter: its name, base annotation, default, description and constraints."""

    def __init__(self, name: str, annotation: Any, default: Any) -> None:
        self.name, self.default, self.description = name, default, None
        self.constraints: dict[str, Any] = {}
        base = annotation
        if get_origin(annotation) is typing.Annotated:
            base, *meta = get_args(annotation)
            for m in meta:
                if isinstance(m, str) and self.description is None:
                    self.description = m
                elif hasattr(m, "description") or hasattr(m, "metadata"):  # a pydantic FieldInfo
                    if getattr(m, "description", None) and self.description is None:
                        self.description = m.description
                    field_default = getattr(m, "default", _MISSING)
                    if self.default is _MISSING and field_default is not ... and not _pydantic_undefined(
                        field_default
                    ):
                        self.default = field_default
                    for c in [m, *getattr(m, "metadata", [])]:
                        for attr, key in _CONSTRAINTS.items():
                            if getattr(c, attr, None) is not None and not callable(getattr(c, attr)):
                                self.constraints[key] = getattr(c, attr)
        self.annotation = base

    def schema(self) -> dict[str, Any]:
        out = dict(type_schema(self.annotation))
        out.update(self.constraints)
        out["title"] = _title(self.name)
        if self.description is not None:
            out["description"] = self.description
        if self.default is not _MISSING:
            out["default"] = self.default
        return dict(sorted(out.items()))


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of one annotation, as pydantic writes it."""
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return {}
    if tp is None or tp is type(None):
        return {"type": "null"}
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if tp in simple:
        return {"type": simple[tp]}
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        values = list(args)
        out: dict[str, Any] = {"enum": values}
        kinds = {type(v) for v in values}
        if len(kinds) == 1 and next(iter(kinds)) in simple:
            out["type"] = simple[next(iter(kinds))]
        if len(values) == 1:
            out = {"const": values[0], **({"type": out["type"]} if "type" in out else {})}
        return dict(sorted(out.items()))
    if origin in (Union, types.UnionType):
        return {"anyOf": [type_schema(a) for a in args]}
    if tp is list or origin is list:
        return {"items": type_schema(args[0]) if args else {}, "type": "array"}
    if tp is set or origin is set:
        return {"items": type_schema(args[0]) if args else {}, "type": "array", "uniqueItems": True}
    if tp is tuple or origin is tuple:
        if args and args[-1] is Ellipsis:
            return {"items": type_schema(args[0]), "type": "array"}
        if args:
            n = len(args)
            return {"maxItems": n, "minItems": n, "prefixItems": [type_schema(a) for a in args], "type": "array"}
        return {"items": {}, "type": "array"}
    if tp is dict or origin is dict:
        value = type_schema(args[1]) if args else {}
        return {"additionalProperties": value if value else True, "type": "object"}
    raise TypeError(f"tool parameter type {tp!r} is not supported without pydantic")


def params_of(fn: Callable[..., Any]) -> list[Param]:
    hints = typing.get_type_hints(fn, include_extras=True)
    return [
        Param(name, hints.get(name, Any), p.default)
        for name, p in inspect.signature(fn).parameters.items()
        if name != "self"
    ]


def object_schema(model_name: str, params: list[Param]) -> dict[str, Any]:
    """The parameters object schema (``model_json_schema`` of the cookbook's ``<name>_params`` model)."""
    out: dict[str, Any] = {"properties": {p.name: p.schema() for p in params}}
    required = [p.name for p in params if p.default is _MISSING]
    if required:
        out["required"] = required
    out["title"] = model_name
    out["type"] = "object"
    return out


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def _coerce(tp: Any, value: Any) -> Any:
    """Lax-mode coercion; raises ValueError(type_code, message) when the value does not fit."""
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return value
    if tp is None or tp is type(None):
        if value is None:
            return None
        raise ValueError("none_required", "Input should be None")
    origin, args = get_origin(tp), get_args(tp)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("bool_parsing", "Input should be a valid boolean")
    if tp is int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError("int_parsing", "Input should be a valid integer")
    if tp is float:
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ValueError("float_parsing", "Input should be a valid number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError("string_type", "Input should be a valid string")
    if origin is Literal:
        if value in args:
            return value
        raise ValueError("literal_error", f"Input should be {' or '.join(repr(a) for a in args)}")
    if origin in (Union, types.UnionType):
        for a in args:  # pydantic's smart mode: an exact type match first, then the first that coerces
            if a is not None and a is not type(None) and type(value) is a:
                return value
        for a in args:
            try:
                return _coerce(a, value)
            except ValueError:
                continue
        raise ValueError("union", "Input does not match any member of the union")
    if tp in (list, set, tuple) or origin in (list, set, tuple):
        if not isinstance(value, (list, tuple, set)):
            raise ValueError("list_type", "Input should be a valid list")
        container = origin or tp
        if container is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ValueError("too_short", f"Tuple should have {len(args)} items")
            return tuple(_coerce(a, v) for a, v in zip(args, value, strict=True))
        items = [_coerce(args[0], v) for v in value] if args else list(value)
        return container(items) if container is not list else items
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise ValueError("dict_type", "Input should be a valid dictionary")
        if not args:
            return dict(value)
        return {_coerce(args[0], k): _coerce(args[1], v) for k, v in value.items()}
    return value


def _check_constraints(p: Param, value: Any) -> None:
    c = p.constraints
    checks: list[tuple[str, Callable[[Any, Any], Any], str]] = [
        ("minimum", operator.ge, "greater than or equal to"),
        ("exclusiveMinimum", operator.gt, "greater than"),
        ("maximum", operator.le, "less than or equal to"),
        ("exclusiveMaximum", operator.lt, "less than"),
    ]
    for key, ok, words in checks:
        if key in c and isinstance(value, (int, float)) and not ok(value, c[key]):
            raise ValueError(f"{key}", f"Input should be {words} {c[key]}")
    if "minLength" in c and hasattr(value, "__len__") and len(value) < c["minLength"]:
        raise ValueError("too_short", f"Value should have at least {c['minLength']} items")
    if "maxLength" in c and hasattr(value, "__len__") and len(value) > c["maxLength"]:
        raise ValueError("too_long", f"Value should have at most {c['maxLength']} items")


def validate_arguments(model_name: str, params: list[Param], arguments: Any) -> dict[str, Any]:
    """Validated keyword arguments (defaults filled in, extra keys dropped), or :class:`ArgumentError`."""
    if not isinstance(arguments, dict):
        raise ArgumentError(
            f"1 validation error for {model_name}\n  Input should be a valid dictionary [type=model_type, "
            f"input_value={arguments!r}, input_type={type(arguments).__name__}]"
        )
    out: dict[str, Any] = {}
    errors: list[str] = []
    for p in params:
        if p.name not in arguments:
            if p.default is _MISSING:
                errors.append(f"{p.name}\n  Field required [type=missing, input_value={json.dumps(arguments)[:80]}, "
                              "input_type=dict]")
            else:
                out[p.name] = p.default
            continue
        raw = arguments[p.name]
        try:
            value = _coerce(p.annotation, raw)
            _check_constraints(p, value)
            out[p.name] = value
        except ValueError as e:
            code, msg = e.args if len(e.args) == 2 else ("value_error", str(e))
            errors.append(f"{p.name}\n  {msg} [type={code}, input_value={raw!r}, input_type={type(raw).__name__}]")
    if errors:
        n = len(errors)
        raise ArgumentError(f"{n} validation error{'s' if n > 1 else ''} for {model_name}\n" + "\n".join(errors))
    return out
