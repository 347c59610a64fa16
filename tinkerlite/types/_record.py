"""JSON records: dataclasses that serialise like the official pydantic models.

``to_json`` omits ``None`` (the SDK's ``exclude_none``); ``from_json`` ignores unknown keys (servers
add fields) but insists on required ones, raising :class:`ProtocolError` that names the record and key.
"""

from __future__ import annotations

import dataclasses
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


class JsonRecord:
    """Mixin for ``@dataclass`` records. Subclasses declare nested record types in ``_nested``."""

    _nested: ClassVar[dict[str, type[JsonRecord]]] = {}
    _nested_list: ClassVar[dict[str, type[JsonRecord]]] = {}
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
                v = cls._nested[f.name].from_json(v)
            elif f.name in cls._nested_list:
                if not isinstance(v, list):
                    raise ProtocolError(f"{name}.{f.name}: expected a list")
                v = [cls._nested_list[f.name].from_json(x) for x in v]
            elif f.name in cls._datetimes:
                v = parse_datetime(v, f"{name}.{f.name}")
            kwargs[f.name] = v
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise ProtocolError(f"{name}: {e}") from None
