"""Deprecating functions, classes, parameters and module attributes (the cookbook's ``utils.deprecation``).

A deprecated name warns (``DeprecationWarning``) with migration guidance; once the running version reaches
its ``removal_version`` it raises ``RuntimeError`` instead, so stale paths cannot linger. Versions are
compared as the cookbook does, against the cookbook release tinkerlite mirrors
(:data:`COOKBOOK_COMPAT_VERSION`), because ``removal_version`` strings in ported code are cookbook versions.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["COOKBOOK_COMPAT_VERSION", "deprecated", "make_deprecated_module_getattr", "warn_deprecated"]

F = TypeVar("F", bound=Callable[..., Any])

#: The tinker_cookbook release whose API tinkerlite provides.
COOKBOOK_COMPAT_VERSION = "0.6.1"


def _parse_version(v: str) -> tuple[int, ...]:
    """Leading numeric components (``"0.15.0.dev3+g12"`` -> ``(0, 15, 0)``); no ``packaging`` needed."""
    parts: list[int] = []
    for segment in v.split("."):
        digits = ""
        for ch in segment:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if parts else (0,)


def _current_version() -> tuple[int, ...]:
    return _parse_version(COOKBOOK_COMPAT_VERSION)


def _check_past_removal(removal_version: str | None) -> bool:
    return removal_version is not None and _current_version() >= _parse_version(removal_version)


def warn_deprecated(name: str, *, removal_version: str | None = None, message: str = "", stacklevel: int = 2) -> None:
    """Warn that ``name`` is deprecated, or raise ``RuntimeError`` once ``removal_version`` is reached."""
    parts = [f"'{name}' is deprecated."]
    if removal_version is not None:
        parts.append(f"It will be removed in version {removal_version}.")
    if message:
        parts.append(message)
    text = " ".join(parts)
    if _check_past_removal(removal_version):
        current = ".".join(str(x) for x in _current_version())
        raise RuntimeError(
            f"{text} (Current version is {current}; this should have been removed by {removal_version}.)"
        )
    warnings.warn(text, DeprecationWarning, stacklevel=stacklevel)


@overload
def deprecated(__func: F) -> F: ...
@overload
def deprecated(*, message: str = ..., removal_version: str | None = ...) -> Callable[[F], F]: ...
def deprecated(
    _func: Callable[..., Any] | None = None, *, message: str = "", removal_version: str | None = None
) -> Any:
    """Decorator: calling the function (or constructing the class) warns, as :func:`warn_deprecated`."""

    def decorator(obj: Any) -> Any:
        name = getattr(obj, "__qualname__", getattr(obj, "__name__", str(obj)))
        if isinstance(obj, type):
            original_init = obj.__init__  # type: ignore[misc]

            @functools.wraps(original_init)
            def new_init(self: Any, *args: Any, **kwargs: Any) -> None:
                warn_deprecated(f"Class {name}", removal_version=removal_version, message=message, stacklevel=2)
                original_init(self, *args, **kwargs)

            obj.__init__ = new_init  # type: ignore[misc]
            return obj

        @functools.wraps(obj)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            warn_deprecated(f"Function {name}", removal_version=removal_version, message=message, stacklevel=2)
            return obj(*args, **kwargs)

        return wrapper

    return decorator(_func) if _func is not None else decorator


def make_deprecated_module_getattr(module_name: str, attrs: dict[str, tuple[str, str | None]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that serves moved names from ``{old: ("new.module.Name", removal_version)}``."""

    def __getattr__(name: str) -> Any:
        if name not in attrs:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        new_path, removal_version = attrs[name]
        module_path, _, attr = new_path.rpartition(".")
        if not module_path:
            raise ValueError(
                f"make_deprecated_module_getattr: new path {new_path!r} must be a dotted path "
                "(e.g. 'package.module.Name')"
            )
        replacement = getattr(importlib.import_module(module_path), attr)
        warn_deprecated(
            f"{module_name}.{name}", removal_version=removal_version, message=f"Use {new_path} instead.", stacklevel=2
        )
        return replacement

    return __getattr__
