"""One config mechanism for every tinkerlite config and builder: chz classes when chz is installed.

Why this design. The cookbook declares its configs and dataset builders with ``@chz.chz``; users subclass
them with ``@chz.chz`` and launch with ``chz.entrypoint`` / ``chz.nested_entrypoint``. chz refuses to mix
with dataclasses ("Cannot mix chz with dataclasses") and keeps its fields in private ``X_<name>`` slots, so
a stdlib class can only pass for a chz class by copying chz's internals. Instead, :func:`configclass`
*is* ``chz.chz`` when chz can be imported: our classes are real chz classes, and everything chz offers
(subclassing, ``chz.replace``, blueprint ``key=value`` overrides, nested entrypoints, ``chz.asdict``)
works on them as on the cookbook's. Without chz the same class becomes a frozen, keyword-only dataclass,
which is the closest stdlib equivalent of a chz class (chz classes are frozen and keyword-only too), so
code written against either keeps working on the standard library.

The choice is made once, when this module is first imported (a class's nature is fixed when it is
defined). ``import tinkerlite`` does not import this module; the recipe layers (supervised, rl,
preference, distillation) do. ``TINKERLITE_CONFIG_BACKEND=auto|chz|stdlib`` overrides the choice
(``auto``, the default, means chz when importable).

Use, in both modes:

- ``@configclass`` on the class; ``field(default_factory=list)``, ``field(munger=lambda _, v: ...)``;
- ``@validate`` on a ``(self) -> None`` method to check fields after ``__init__`` (chz classes may not
  define ``__post_init__``);
- :func:`replace` (never attribute assignment: instances are frozen), :func:`config_fields`,
  :func:`is_config`.

One difference between the modes: chz keeps the raw value of a munged field and re-munges on
``replace``; the stdlib mode stores the munged value, so mungers must be idempotent (``expanduser`` is).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._optional import try_import
from ..errors import MissingExtraError, ValidationError

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)
_F = TypeVar("_F")

if TYPE_CHECKING:  # typing.dataclass_transform is 3.11+; type checkers ship typing_extensions
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_kwargs: Any) -> Callable[[_F], _F]:
        return lambda fn: fn


__all__ = [
    "BACKEND_ENV",
    "USING_CHZ",
    "config_fields",
    "configclass",
    "field",
    "is_config",
    "refuse_unsupported",
    "replace",
    "validate",
]

BACKEND_ENV = "TINKERLITE_CONFIG_BACKEND"

_VALIDATOR_MARK = "__tinkerlite_validator__"
_MUNGER_KEY = "tinkerlite_munger"


def _load_chz() -> ModuleType | None:
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", "chz", "stdlib"):
        raise ValidationError(f"{BACKEND_ENV}={choice!r}: expected one of auto, chz, stdlib")
    if choice == "stdlib":
        return None
    mod = try_import("chz")
    if mod is None and choice == "chz":
        raise MissingExtraError("chz", "chz", f"{BACKEND_ENV}=chz")
    return mod


_chz: ModuleType | None = _load_chz()
USING_CHZ: bool = _chz is not None
"""True when config classes are chz classes (chz importable and not disabled)."""


def _stdlib_post_init(self: Any) -> None:
    """Apply mungers, then every ``@validate`` method, as chz's generated ``__init__`` does."""
    for f in dataclasses.fields(self):
        munger = f.metadata.get(_MUNGER_KEY)
        if munger is not None:
            object.__setattr__(self, f.name, munger(self, getattr(self, f.name)))
    seen: set[str] = set()
    for klass in reversed(type(self).__mro__):
        for name, value in vars(klass).items():
            if getattr(value, _VALIDATOR_MARK, False) and name not in seen:
                seen.add(name)
    for name in sorted(seen):
        getattr(self, name)()


@overload
def field(*, default: _T, munger: Callable[[Any, Any], Any] | None = ..., doc: str = ...) -> _T: ...
@overload
def field(
    *, default_factory: Callable[[], _T], munger: Callable[[Any, Any], Any] | None = ..., doc: str = ...
) -> _T: ...
@overload
def field(*, munger: Callable[[Any, Any], Any] | None = ..., doc: str = ...) -> Any: ...
def field(
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    munger: Callable[[Any, Any], Any] | None = None,
    doc: str = "",
) -> Any:
    """A config field: ``chz.field`` or ``dataclasses.field`` with the same meaning.

    ``munger(self, value)`` adjusts the value after ``__init__`` (e.g. ``expanduser`` on a path).
    """
    if _chz is not None:
        kwargs: dict[str, Any] = {"doc": doc}
        if default is not dataclasses.MISSING:
            kwargs["default"] = default
        if default_factory is not dataclasses.MISSING:
            kwargs["default_factory"] = default_factory
        if munger is not None:
            kwargs["munger"] = munger
        return _chz.field(**kwargs)
    metadata = {_MUNGER_KEY: munger, "doc": doc} if munger is not None else {"doc": doc}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field, dataclasses.field))
def configclass(cls: _C) -> _C:
    """Make ``cls`` a chz class (chz installed) or a frozen keyword-only dataclass (stdlib)."""
    if _chz is not None:
        out: _C = _chz.chz(cls)
        return out
    if "__post_init__" not in cls.__dict__:
        cls.__post_init__ = _stdlib_post_init  # type: ignore[attr-defined]
    return dataclasses.dataclass(frozen=True, kw_only=True)(cls)  # type: ignore[return-value]


def validate(fn: Callable[[Any], None]) -> Any:
    """Mark a ``(self) -> None`` method to run after ``__init__`` (``chz.validate`` under chz)."""
    if _chz is not None:
        return _chz.validate(fn)
    setattr(fn, _VALIDATOR_MARK, True)
    return fn


def is_config(obj: object) -> bool:
    """True for an instance of a config class (chz or dataclass)."""
    if isinstance(obj, type):
        return False
    if _chz is not None and _chz.is_chz(obj):
        return True
    return dataclasses.is_dataclass(obj)


def config_fields(obj: object) -> dict[str, Any]:
    """Field name -> value of a config instance (chz or dataclass), in declaration order."""
    if _chz is not None and not isinstance(obj, type) and _chz.is_chz(obj):
        return {name: getattr(obj, name) for name in _chz.chz_fields(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    raise TypeError(f"{type(obj).__name__} is not a config class instance")


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of ``obj`` with ``changes`` (``chz.replace`` or ``dataclasses.replace``)."""
    if _chz is not None and _chz.is_chz(obj):
        out: _T = _chz.replace(obj, **changes)
        return out
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        made: _T = dataclasses.replace(obj, **changes)
        return made
    raise TypeError(f"{type(obj).__name__} is not a config class instance")


def refuse_unsupported(obj: object, /, **defaults: Any) -> None:
    """Refuse cookbook fields whose feature tinkerlite lacks, unless left at their cookbook default.

    The field exists so cookbook code that names it keeps working; a value that asks for the missing
    feature is a clear error naming the field, never a silent no-op.
    """
    for name, default in defaults.items():
        value = getattr(obj, name)
        if value != default:
            raise ValidationError(
                f"{value!r} asks for a cookbook feature tinkerlite does not implement; leave it at {default!r}",
                field=f"{type(obj).__name__}.{name}",
            )
