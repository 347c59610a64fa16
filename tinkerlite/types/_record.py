"""JSON records: dataclasses that serialise like the official pydantic models.

``to_json`` omits ``None`` (the SDK's ``exclude_none``); ``from_json`` ignores unknown keys (servers
add fields) but insists on required ones, raising :class:`ProtocolError` that names the record and key.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
import types
import typing
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from ..errors import ProtocolError

R = TypeVar("R", bound="JsonRecord")


def parse_datetime(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ProtocolError(f"{where}: expected an ISO-8601 datetime string, got {type(value).__name__}")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(f"{where}: not an ISO-8601 datetime: {value!r}") from None


def _dump(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if hasattr(value, "to_json") and callable(value.to_json):
        return value.to_json()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items() if v is not None}
    return value


def _parse_nested(tp: Any, value: Any, where: str) -> Any:
    """``tp.from_json(value)``; for a union of records (the SDK's discriminated unions) pick the member
    whose ``type`` field default equals ``value["type"]``."""
    if isinstance(tp, type):
        return tp.from_json(value) if hasattr(tp, "from_json") else value
    members = typing.get_args(tp) if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union else ()
    if not members:
        return value
    for m in members:  # a family with its own dispatch (e.g. OptimizerConfigBase)
        if isinstance(m, type) and all(isinstance(x, type) and issubclass(x, m) for x in members):
            return getattr(m, "from_json")(value)  # noqa: B009 - not every member type declares it
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: expected a JSON object, got {type(value).__name__}")
    for key in ("type", "state"):
        if key not in value:
            continue
        for m in members:
            fields = {f.name: f for f in dataclasses.fields(m)} if dataclasses.is_dataclass(m) else {}
            if key in fields and fields[key].default == value[key]:
                return m.from_json(value)
        raise ProtocolError(f"{where}: unknown variant {key}={value[key]!r}")
    raise ProtocolError(f"{where}: no 'type' to tell the variants apart")


def _py(value: Any, json_mode: bool, exclude_none: bool) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json" if json_mode else "python", exclude_none=exclude_none)
    if json_mode and hasattr(value, "to_json") and callable(value.to_json):
        return value.to_json()
    if json_mode and isinstance(value, datetime):
        return value.isoformat()
    if json_mode and isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_py(v, json_mode, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _py(v, json_mode, exclude_none) for k, v in value.items() if not (exclude_none and v is None)}
    return value


class PydanticCompat:
    """The pydantic ``BaseModel`` methods user code calls on SDK types (``model_dump``, ``model_copy``,
    ``model_validate``...), for dataclass records. ``mode="json"`` gives the wire form (``to_json``)."""

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False, **_ignored: Any) -> dict[str, Any]:
        names = [f.name for f in dataclasses.fields(self) if not f.name.startswith("_")]  # type: ignore[arg-type]
        if mode == "json" and hasattr(self, "to_json"):
            out: dict[str, Any] = self.to_json()
            if not exclude_none:
                for n in names:
                    if n not in out and getattr(self, n) is None:
                        out[n] = None
            return out
        values = {n: getattr(self, n) for n in names}
        return {n: _py(v, mode == "json", exclude_none) for n, v in values.items() if not (exclude_none and v is None)}

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False, **_ignored: Any) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=exclude_none), indent=indent)

    def model_copy(self: P, *, update: dict[str, Any] | None = None, deep: bool = False) -> P:
        base = copy.deepcopy(self) if deep else self
        return dataclasses.replace(base, **(update or {}))  # type: ignore[type-var]

    @classmethod
    def model_validate(cls: type[P], obj: Any) -> P:
        if isinstance(obj, cls):
            return obj
        from_json = getattr(cls, "from_json", None)
        if from_json is not None:
            return from_json(obj)  # type: ignore[no-any-return]
        if not isinstance(obj, dict):
            raise ProtocolError(f"{cls.__name__}: expected a JSON object, got {type(obj).__name__}")
        return cls(**obj)

    @classmethod
    def model_validate_json(cls: type[P], data: str | bytes) -> P:
        return cls.model_validate(json.loads(data))


P = TypeVar("P", bound=PydanticCompat)


class JsonRecord(PydanticCompat):
    """Mixin for ``@dataclass`` records. Subclasses declare nested record types in ``_nested``
    (a record class, or a union alias of records told apart by their ``type`` field)."""

    _nested: ClassVar[dict[str, Any]] = {}
    _nested_list: ClassVar[dict[str, Any]] = {}
    _datetimes: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = _dump(v)
        return out

    @classmethod
    def from_json(cls: type[R], obj: Any) -> R:
        name = cls.__name__
        if not isinstance(obj, dict):
            raise ProtocolError(f"{name}: expected a JSON object, got {type(obj).__name__}")
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in obj or obj[f.name] is None:
                required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                if required:
                    raise ProtocolError(f"{name}: missing required field {f.name!r}")
                continue
            v = obj[f.name]
            if f.name in cls._nested:
                v = _parse_nested(cls._nested[f.name], v, f"{name}.{f.name}")
            elif f.name in cls._nested_list:
                if not isinstance(v, list):
                    raise ProtocolError(f"{name}.{f.name}: expected a list")
                v = [_parse_nested(cls._nested_list[f.name], x, f"{name}.{f.name}") for x in v]
            elif f.name in cls._datetimes:
                v = parse_datetime(v, f"{name}.{f.name}")
            kwargs[f.name] = v
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise ProtocolError(f"{name}: {e}") from None
