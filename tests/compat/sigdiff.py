"""Mechanical signature diff: the official packages read with ``ast``, tinkerlite read with ``inspect``.

The official side is parsed, never imported, so the diff needs neither torch nor pydantic. Every public
name of a compared module is reduced to a small comparable shape:

- functions and methods: parameters (name, kind, default) in order, and coroutine-or-not;
- model classes (pydantic / dataclass / chz / NamedTuple / TypedDict): their constructor fields (name,
  required or default). For keyword-only constructors (pydantic, chz) field order carries no meaning and
  is not compared; for positional ones (dataclass, NamedTuple) it is;
- other classes: ``__init__`` plus every public method and property;
- ``Literal`` aliases: the set of values; enums: member names and values.

Defaults are compared by value when the official default is a literal; a non-literal default (a module
constant, ``NOT_GIVEN``, a factory) only requires that ours has a default too, since the expression
itself is not evaluable without importing the official package. Our trailing ``_private`` parameters with
defaults are internal hooks no official call can reach and are left out. A difference where ours accepts
every official call and more (extra optional parameters or fields) is flagged ``extension``: still a
difference to list, but not one that breaks ported code.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import importlib.util
import inspect
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.official_ast import OfficialPackage
from tests.compat.sigshape import MISSING, NONLITERAL, Diff, Param, Shape

__all__ = ["Diff", "OfficialPackage", "Report", "compare", "cookbook_report", "diff_package", "sdk_report"]

# ----------------------------------------------------------------------------------------------- ours


def _repr_default(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return MISSING
    if isinstance(value, (type(None), bool, int, float, str, bytes, tuple, list, dict, set, frozenset)):
        try:
            return repr(ast.literal_eval(repr(value)))
        except (ValueError, SyntaxError):
            return NONLITERAL
    if isinstance(value, enum.Enum):
        return repr(value.value)
    return NONLITERAL


def _sig_shape(fn: Any) -> Shape:
    raw = inspect.unwrap(fn)
    try:
        sig = inspect.signature(raw)
    except (TypeError, ValueError):
        return Shape("function")
    params = tuple(Param(p.name, p.kind.name, _repr_default(p.default)) for p in sig.parameters.values())
    is_async = inspect.iscoroutinefunction(raw) or inspect.isasyncgenfunction(raw)
    return Shape("function", params, is_async)


def _our_fields(cls: type) -> tuple[Param, ...]:
    if hasattr(cls, "__total__") and hasattr(cls, "__annotations__"):  # a TypedDict: keys, never defaults
        return tuple(Param(n, "FIELD", MISSING) for n in cls.__annotations__)
    if dataclasses.is_dataclass(cls):
        out = []
        for f in dataclasses.fields(cls):
            if not f.init or f.name.startswith("_"):
                continue
            if f.default is not dataclasses.MISSING:
                d = _repr_default(f.default)
            elif f.default_factory in (list, dict):
                d = repr(f.default_factory())  # what pydantic makes of a literal ``[]`` / ``{}`` default
            elif f.default_factory is not dataclasses.MISSING:
                d = NONLITERAL
            else:
                d = MISSING
            out.append(Param(f.name, "FIELD", d))
        return tuple(out)
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return ()
    return tuple(
        Param(p.name, "FIELD", _repr_default(p.default))
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )


def our_member(cls: type, name: str) -> Shape | None:
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return Shape("property")
    for klass in cls.__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            break
    else:
        return None
    if isinstance(attr, (staticmethod, classmethod)):
        attr = attr.__func__
    if isinstance(attr, property):
        return Shape("property")
    if hasattr(attr, "__get__") and not inspect.isfunction(attr):  # a decorator's descriptor (e.g. @tool)
        bound = attr.__get__(None, cls)
        if callable(bound) and not isinstance(bound, type):
            return _sig_shape(bound)
        return Shape("descriptor")
    if hasattr(attr, "__set_name__") and not callable(attr):
        return Shape("property")
    if inspect.isfunction(attr) or inspect.ismethod(attr) or callable(attr):
        return _sig_shape(attr)
    return Shape("property")  # a plain attribute / field reads like a property


# ----------------------------------------------------------------------------------------------- compare


def _same_default(a: str, b: str) -> bool:
    """Equal reprs, or numbers of equal value (``1`` and ``1.0``: pydantic keeps an int default as is)."""
    if a == b:
        return True
    try:
        x, y = ast.literal_eval(a), ast.literal_eval(b)
    except (ValueError, SyntaxError):
        return False

    def num(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    return num(x) and num(y) and x == y


def _drop_private_tail(ours: tuple[Param, ...], theirs: tuple[Param, ...]) -> tuple[Param, ...]:
    """Our trailing ``_private`` parameters with defaults are internal hooks no official call can reach."""
    names = {p.name for p in theirs}
    out = list(ours)
    while (
        out
        and out[-1].name.startswith("_")
        and out[-1].name not in names
        and (out[-1].default != MISSING or out[-1].kind in ("VAR_KEYWORD", "VAR_POSITIONAL"))
    ):
        out.pop()
    kept = [
        p
        for p in out
        if not (p.name.startswith("_") and p.name not in names and p.kind == "KEYWORD_ONLY" and p.default != MISSING)
    ]
    return tuple(kept)


def _compare_params(q: str, theirs: tuple[Param, ...], ours: tuple[Param, ...], ordered: bool) -> list[Diff]:
    ours = _drop_private_tail(ours, theirs)
    if ordered:
        same = len(theirs) == len(ours) and all(
            t.name == o.name and t.kind == o.kind and _same_default(t.default, o.default)
            for t, o in zip(theirs, ours, strict=False)
        )
        if same:
            return []
        n = len(theirs)
        prefix_same = len(ours) > n and all(
            t.name == o.name and t.kind == o.kind and _same_default(t.default, o.default)
            for t, o in zip(theirs, ours[:n], strict=True)
        )
        extra_optional = all(p.default != MISSING or p.kind.startswith("VAR_") for p in ours[n:])
        # An official pass-through ``(…, *args, **kwargs)`` met by ours spelling out optional parameters.
        k = next((i for i, p in enumerate(theirs) if p.kind.startswith("VAR_")), None)
        if k is not None and theirs[-1].kind == "VAR_KEYWORD" and not prefix_same:
            prefix_same = len(ours) >= k and all(
                t.name == o.name and t.kind == o.kind and _same_default(t.default, o.default)
                for t, o in zip(theirs[:k], ours[:k], strict=True)
            )
            extra_optional = all(p.default != MISSING or p.kind.startswith("VAR_") for p in ours[k:])
        return [
            Diff(
                q,
                f"signature ({', '.join(p.show() for p in theirs)}) != ours ({', '.join(p.show() for p in ours)})",
                extension=prefix_same and extra_optional,
            )
        ]
    t = {p.name: p for p in theirs}
    o = {p.name: p for p in ours}
    out = []
    if t.keys() != o.keys():
        missing, extra = sorted(t.keys() - o.keys()), sorted(o.keys() - t.keys())
        ext = not missing and all(o[e].default != MISSING for e in extra)
        out.append(Diff(q, f"fields missing {missing}, extra {extra}", extension=ext))
    for n in t.keys() & o.keys():
        td, od = t[n].default, o[n].default
        if not _same_default(td, od) and not (td == NONLITERAL and od != MISSING):
            out.append(Diff(f"{q}.{n}", f"default {td} != ours {od}"))
    return out


def _loosen(params: tuple[Param, ...], theirs: tuple[Param, ...]) -> tuple[Param, ...]:
    """Where the official default is not a literal, any default of ours counts as equal."""
    by = {p.name: p for p in theirs}
    out = []
    for p in params:
        t = by.get(p.name)
        if t is not None and t.default == NONLITERAL and p.default != MISSING:
            p = dataclasses.replace(p, default=NONLITERAL)
        out.append(p)
    return tuple(out)


def compare(q: str, theirs: Shape, ours: Any) -> list[Diff]:
    if theirs.kind in ("value", "module"):
        return []
    if theirs.kind == "function":
        if not callable(ours) or inspect.isclass(ours):
            return [Diff(q, f"is a function there, {type(ours).__name__} here")]
        mine = _sig_shape(ours)
        out = _compare_params(q, theirs.params, _loosen(mine.params, theirs.params), True)
        if mine.is_async != theirs.is_async:
            out.append(Diff(q, f"coroutine there={theirs.is_async}, here={mine.is_async}"))
        return out
    if theirs.kind == "literal":
        args = typing.get_args(ours) if typing.get_origin(ours) is typing.Literal else None
        if args is None:
            return [Diff(q, "is a Literal alias there, not here")]
        mine_vals = tuple(sorted(repr(a) for a in args))
        return [] if mine_vals == theirs.values else [Diff(q, f"Literal values {theirs.values} != ours {mine_vals}")]
    if not inspect.isclass(ours):
        return [Diff(q, f"is a class there, {type(ours).__name__} here")]
    if theirs.kind == "enum":
        if not issubclass(ours, enum.Enum):
            return [Diff(q, "is an Enum there, not here")]
        mine_vals = tuple(sorted(f"{m.name}={m.value!r}" for m in ours))
        return [] if mine_vals == theirs.values else [Diff(q, f"members {theirs.values} != ours {mine_vals}")]
    out: list[Diff] = []
    if theirs.kind == "model":
        if theirs.params and theirs.params[0].kind != "FIELD":  # an explicit constructor: compare as a call
            mine_f = _sig_shape(ours.__init__).params[1:]
        else:
            mine_f = _our_fields(ours)
        out += _compare_params(q, theirs.params, _loosen(mine_f, theirs.params), theirs.ordered)
    for name, tshape in theirs.members.items():
        mq = f"{q}.{name}"
        mshape = our_member(ours, name)
        if mshape is None:
            out.append(Diff(mq, "missing"))
        elif tshape.kind == "property":
            if mshape.kind != "property":
                out.append(Diff(mq, "is a property there, a method here"))
        elif mshape.kind == "descriptor" and tshape.decorators:
            continue  # a decorator made it an object on both sides (e.g. @tool): its name is what counts
        elif mshape.kind != "function":
            out.append(Diff(mq, "is a method there, a property here"))
        else:
            out += _compare_params(mq, tshape.params, _loosen(mshape.params, tshape.params), True)
            if mshape.is_async != tshape.is_async:
                out.append(Diff(mq, f"coroutine there={tshape.is_async}, here={mshape.is_async}"))
    return out


@dataclass
class Report:
    modules_both: list[str] = field(default_factory=list)
    modules_missing: list[str] = field(default_factory=list)
    names_covered: int = 0
    names_missing: list[str] = field(default_factory=list)
    diffs: list[Diff] = field(default_factory=list)

    def summary(self, label: str) -> str:
        total = self.names_covered + len(self.names_missing)
        ext = sum(d.extension for d in self.diffs)
        return (
            f"{label}: modules {len(self.modules_both)}/{len(self.modules_both) + len(self.modules_missing)} "
            f"present; public names {self.names_covered}/{total} present; "
            f"{len(self.diffs)} signature differences ({ext} extensions: extra optional parameters/fields)"
        )


def _our_module(name: str) -> Any:
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except (ImportError, ValueError):
        return None
    return importlib.import_module(name)


def diff_package(pkg: OfficialPackage, mapping: dict[str, str]) -> Report:
    """Compare every official module in ``mapping`` (official name -> our name)."""
    rep = Report()
    seen: set[Diff] = set()
    for theirs_mod, ours_mod in mapping.items():
        try:
            mine = _our_module(ours_mod)
        except Exception as e:  # an import error is a difference in its own right
            rep.modules_both.append(theirs_mod)
            rep.diffs.append(Diff(theirs_mod, f"{ours_mod} fails to import: {type(e).__name__}: {e}"))
            continue
        if mine is None:
            rep.modules_missing.append(theirs_mod)
            continue
        rep.modules_both.append(theirs_mod)
        for name in pkg.public_names(theirs_mod):
            home, _ = pkg.find(theirs_mod, name)
            q = f"{home}:{name}"  # one name per definition, however many modules re-export it
            shape = pkg.shape(theirs_mod, name)
            if not hasattr(mine, name):
                rep.names_missing.append(f"{theirs_mod}:{name}")
                continue
            rep.names_covered += 1
            if shape is not None:
                rep.diffs += [d for d in compare(q, shape, getattr(mine, name)) if d not in seen]
                seen.update(rep.diffs)
    return rep


def sdk_mapping(pkg: OfficialPackage) -> dict[str, str]:
    """The SDK surface: ``tinker``, ``tinker.auth``, ``tinker.types`` and every public types submodule."""
    out = {"tinker": "tinkerlite", "tinker.auth": "tinkerlite.auth", "tinker.types": "tinkerlite.types"}
    for m in pkg.modules():
        parts = m.split(".")
        if parts[:2] == ["tinker", "types"] and len(parts) > 2 and not any(p.startswith("_") for p in parts):
            out[m] = "tinkerlite" + m[len("tinker") :]
    return out


def cookbook_mapping(pkg: OfficialPackage) -> dict[str, str]:
    """Every non-test cookbook module ``tinker_cookbook.X`` against ``tinkerlite.X``."""
    out = {}
    for m in pkg.modules():
        parts = m.split(".")
        if len(parts) < 2 or any(p.startswith("_") or p == "tests" or p.endswith("_test") for p in parts):
            continue
        if parts[-1].startswith("test_") or parts[-1] == "conftest":
            continue
        out[m] = "tinkerlite" + m[len("tinker_cookbook") :]
    return out


def sdk_report(root: Path) -> Report:
    pkg = OfficialPackage(root, "tinker")
    return diff_package(pkg, sdk_mapping(pkg))


def cookbook_report(root: Path) -> Report:
    pkg = OfficialPackage(root, "tinker_cookbook")
    return diff_package(pkg, cookbook_mapping(pkg))
