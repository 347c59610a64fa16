"""``dataclass`` for the wire records, with the generated methods built on first use.

``@dataclasses.dataclass`` compiles ``__init__``/``__repr__``/``__eq__``/``__hash__`` (and, frozen, the
``__setattr__``/``__delattr__`` guards) with ``exec`` when the class statement runs: about 0.5 ms per frozen
class, and ``from tinkerlite import ServiceClient, types`` defines some 80 records it mostly never uses.
Here the class statement only puts placeholders for those attributes into the class; the first access to
any of them (constructing an instance, ``dataclasses.fields``, ``inspect.signature``, ``repr``, ``==``,
``__doc__``, pattern matching...) runs the real ``dataclasses.dataclass`` and installs its results on the
same class object, so identity, ``isinstance``, pickling and signatures are exactly those of an eager
dataclass. Type checkers see the standard decorator.

Generation runs on a throwaway twin of the class (same name, bases and namespace) so that the placeholders
stay in place, under a lock, until each real attribute replaces its own: another thread never sees a class
with a placeholder removed and its method not yet installed. The frozen guards are the only generated code
that names its class; they are re-made here for the real class, with the same behaviour.
"""

from __future__ import annotations

import abc
import dataclasses
import threading
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass", "lazy_dataclass", "realise_all"]

_MISSING = object()
_LOCK = threading.RLock()
# class -> (decorator keyword arguments, names that hold placeholders)
_PENDING: dict[type, tuple[dict[str, Any], tuple[str, ...]]] = {}
_SKIP = ("__dict__", "__weakref__")


class _Placeholder:
    """Stands for one generated attribute of ``owner`` until the first lookup builds them all."""

    __slots__ = ("name", "owner")

    def __init__(self, owner: type, name: str) -> None:
        self.owner = owner
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        _realise(self.owner)
        if obj is None:
            return getattr(objtype if objtype is not None else self.owner, self.name)
        return getattr(obj, self.name)


def _placeholder_names(cls: type, params: dict[str, Any]) -> tuple[str, ...]:
    wanted = ["__dataclass_fields__", "__dataclass_params__", "__hash__"]
    if params.get("init", True):
        wanted.append("__init__")
    if params.get("repr", True):
        wanted.append("__repr__")
    if params.get("eq", True):
        wanted.append("__eq__")
    if params.get("frozen", False):
        wanted += ["__setattr__", "__delattr__"]
    if params.get("match_args", True):
        wanted.append("__match_args__")
    own = cls.__dict__
    names = [n for n in wanted if n not in own]
    if own.get("__doc__") is None:  # the dataclass writes its signature there (inspect.signature: slow)
        names.append("__doc__")
    return tuple(names)


def _frozen_guards(cls: Any, names: frozenset[str]) -> tuple[Any, Any]:
    """The dataclass module's frozen ``__setattr__``/``__delattr__``, for ``cls`` itself."""

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    for fn in (__setattr__, __delattr__):
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        fn.__module__ = cls.__module__
    return __setattr__, __delattr__


def _realise(cls: type) -> None:
    with _LOCK:
        entry = _PENDING.pop(cls, None)
        if entry is None:
            return
        params, stubbed = entry
        ns = {k: v for k, v in cls.__dict__.items() if k not in _SKIP and k not in stubbed}
        if "__doc__" in stubbed:
            ns["__doc__"] = None
        ns["__qualname__"] = cls.__qualname__
        try:
            twin: type = dataclasses.dataclass(type(cls)(cls.__name__, cls.__bases__, ns), **params)
        except BaseException:
            _PENDING[cls] = entry  # a broken definition fails again, the same way, on the next use
            raise
        made = {k: v for k, v in twin.__dict__.items() if k not in _SKIP and k != "__qualname__"}
        if params.get("frozen", False) and "__setattr__" in stubbed:
            names = frozenset(f.name for f in dataclasses.fields(twin))
            made["__setattr__"], made["__delattr__"] = _frozen_guards(cls, names)
        for key, value in made.items():
            if cls.__dict__.get(key, _MISSING) is not value:
                setattr(cls, key, value)
        for key in [k for k in cls.__dict__ if k not in made and k not in _SKIP and k != "__qualname__"]:
            delattr(cls, key)  # a default_factory field's ``field()`` object, as the dataclass removes it
        abc.update_abstractmethods(cls)


def _has_set_name_hooks(cls: type) -> bool:
    """A class attribute whose ``__set_name__`` might mind being called again, for the twin (properties and
    ``field()`` objects do not: theirs only records the name, the same one)."""
    harmless = (property, dataclasses.Field)
    return any(hasattr(type(v), "__set_name__") and not isinstance(v, harmless) for v in cls.__dict__.values())


def lazy_dataclass(cls: Any = None, /, **params: Any) -> Any:
    """``dataclasses.dataclass`` with the same arguments; generation deferred to first use (see module)."""

    def wrap(c: type) -> type:
        if params.get("slots") or params.get("weakref_slot") or _has_set_name_hooks(c):
            # slots make a new class; a descriptor's __set_name__ would run again for the twin: no deferring
            return dataclasses.dataclass(c, **params)
        names = _placeholder_names(c, params)
        with _LOCK:
            for name in names:
                setattr(c, name, _Placeholder(c, name))
            _PENDING[c] = (dict(params), names)
        return c

    return wrap if cls is None else wrap(cls)


def realise_all() -> int:
    """Build every record defined so far (tests: check all definitions; returns how many were pending)."""
    with _LOCK:
        pending = list(_PENDING)
    for cls in pending:
        _realise(cls)
    return len(pending)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = lazy_dataclass
