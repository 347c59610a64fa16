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
itself is not evaluable without importing the official package.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import importlib.util
import inspect
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MISSING = "<required>"
NONLITERAL = "<default>"
KINDS = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD", "VAR_POSITIONAL", "KEYWORD_ONLY", "VAR_KEYWORD")
_MODEL_BASES = {"BaseModel", "StrictBase", "NamedTuple", "TypedDict"}
_MODEL_DECORATORS = {"dataclass", "chz", "dataclasses.dataclass", "chz.chz"}
_PYDANTIC_HOOKS = {"field_validator", "field_serializer", "model_validator", "model_serializer", "validator"}
_ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: str  # MISSING, NONLITERAL, or repr of a literal value

    def show(self) -> str:
        d = "" if self.default == MISSING else f"={self.default}"
        return f"{self.name}{d}[{self.kind}]"


@dataclass(frozen=True)
class Shape:
    """What one public name looks like. ``kind``: function, model, class, literal, enum, value."""

    kind: str
    params: tuple[Param, ...] = ()
    is_async: bool = False
    ordered: bool = True  # models: whether field order matters
    values: tuple[str, ...] = ()
    members: dict[str, Shape] = field(default_factory=dict)  # class methods/properties


@dataclass(frozen=True)
class Diff:
    qualname: str
    message: str
    extension: bool = False  # ours accepts every official call and more (extra optional parameters/fields)


# ----------------------------------------------------------------------------------------------- official


def _literal(node: ast.expr | None) -> str:
    if node is None:
        return MISSING
    try:
        return repr(ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NONLITERAL


def _deco_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return ast.unparse(node)


def _func_shape(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Shape:
    a = fn.args
    params: list[Param] = []
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for i, arg in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(a.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        params.append(Param(arg.arg, kind, _literal(defaults[i])))
    if a.vararg:
        params.append(Param(a.vararg.arg, "VAR_POSITIONAL", MISSING))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(Param(arg.arg, "KEYWORD_ONLY", _literal(d)))
    if a.kwarg:
        params.append(Param(a.kwarg.arg, "VAR_KEYWORD", MISSING))
    return Shape("function", tuple(params), isinstance(fn, ast.AsyncFunctionDef))


def _field_default(value: ast.expr | None) -> str:
    """Default of a model field: plain value, ``Field(default=...)``, ``field(default_factory=...)``."""
    if value is None:
        return MISSING
    if isinstance(value, ast.Call) and _deco_name(value).split(".")[-1] in {"Field", "field"}:
        kws = {k.arg: k.value for k in value.keywords if k.arg}
        if "default" in kws:
            return _literal(kws["default"])
        if "default_factory" in kws:
            return NONLITERAL
        if value.args and not (isinstance(value.args[0], ast.Constant) and value.args[0].value is Ellipsis):
            return _literal(value.args[0])
        return MISSING
    return _literal(value)


class OfficialPackage:
    """Parsed sources of one official package, with import following for re-exported names."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package
        self._trees: dict[str, ast.Module | None] = {}

    def modules(self) -> list[str]:
        out = []
        for path in sorted((self.root / self.package).rglob("*.py")):
            rel = path.relative_to(self.root).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            out.append(".".join(parts))
        return out

    def path_of(self, module: str) -> Path | None:
        base = self.root.joinpath(*module.split("."))
        for p in (base.with_suffix(".py"), base / "__init__.py"):
            if p.exists():
                return p
        return None

    def tree(self, module: str) -> ast.Module | None:
        if module not in self._trees:
            p = self.path_of(module)
            self._trees[module] = ast.parse(p.read_text(encoding="utf-8")) if p else None
        return self._trees[module]

    def _absolute(self, module: str, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        is_pkg = (self.path_of(module) or Path()).name == "__init__.py"
        parts = module.split(".")
        base = parts if is_pkg else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def _top_level(self, tree: ast.Module) -> Iterator[ast.stmt]:
        """Module statements, descending into ``if``/``try`` blocks (not ``if TYPE_CHECKING`` else arms)."""
        for stmt in tree.body:
            if isinstance(stmt, ast.If):
                yield from stmt.body
                yield from stmt.orelse
            elif isinstance(stmt, ast.Try):
                yield from stmt.body
            else:
                yield stmt

    def public_names(self, module: str) -> list[str]:
        """``__all__`` when given; else defined names plus explicit ``import X as X`` re-exports."""
        tree = self.tree(module)
        if tree is None:
            return []
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and stmt.value:
                    try:
                        return [n for n in ast.literal_eval(stmt.value) if not n.startswith("__")]
                    except ValueError:
                        break
        names: list[str] = []
        for stmt in self._top_level(tree):
            if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.append(stmt.name)
            elif isinstance(stmt, ast.Assign):
                names += [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names.append(stmt.target.id)
            elif isinstance(stmt, ast.ImportFrom):
                names += [a.asname for a in stmt.names if a.asname and a.asname == a.name]
        seen: dict[str, None] = {}
        for n in names:
            if not n.startswith("_"):
                seen[n] = None
        return list(seen)

    def find(self, module: str, name: str, depth: int = 0) -> tuple[str, ast.stmt | None]:
        """The statement defining ``name`` as seen from ``module`` (following imports)."""
        tree = self.tree(module)
        if tree is None or depth > 12:
            return module, None
        found: ast.stmt | None = None
        for stmt in self._top_level(tree):
            if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                if not any(_deco_name(d).endswith("overload") for d in stmt.decorator_list):
                    found = stmt
            elif isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                found = stmt
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                found = stmt
        if found is not None:
            return module, found
        for stmt in self._top_level(tree):
            if isinstance(stmt, ast.ImportFrom):
                for a in stmt.names:
                    if (a.asname or a.name) == name:
                        src = self._absolute(module, stmt)
                        if src.split(".")[0] != self.package:
                            return src, None
                        if self.path_of(f"{src}.{a.name}"):  # a submodule
                            return f"{src}.{a.name}", ast.Module(body=[], type_ignores=[])
                        return self.find(src, a.name, depth + 1)
            elif isinstance(stmt, ast.Import):
                for a in stmt.names:
                    if (a.asname or a.name) == name:
                        return a.name, ast.Module(body=[], type_ignores=[])
        return module, None

    def _bases(self, module: str, cls: ast.ClassDef) -> list[tuple[str, ast.ClassDef]]:
        out = []
        for b in cls.bases:
            bname = ast.unparse(b).split("[")[0].split(".")[-1]
            mod, node = self.find(module, bname)
            if isinstance(node, ast.ClassDef):
                out.append((mod, node))
        return out

    def _is_model(self, module: str, cls: ast.ClassDef, depth: int = 0) -> bool:
        if any(_deco_name(d) in _MODEL_DECORATORS for d in cls.decorator_list):
            return True
        if any(ast.unparse(b).split("[")[0].split(".")[-1] in _MODEL_BASES for b in cls.bases):
            return True
        return depth < 8 and any(self._is_model(m, c, depth + 1) for m, c in self._bases(module, cls))

    def _keyword_only_model(self, module: str, cls: ast.ClassDef, depth: int = 0) -> bool:
        decos = {_deco_name(d) for d in cls.decorator_list}
        if decos & {"chz", "chz.chz"}:
            return True
        if decos & {"dataclass", "dataclasses.dataclass"}:
            return any(
                isinstance(d, ast.Call) and any(k.arg == "kw_only" for k in d.keywords) for d in cls.decorator_list
            )
        if any(ast.unparse(b).split("[")[0].split(".")[-1] in {"BaseModel", "StrictBase"} for b in cls.bases):
            return True
        return depth < 8 and any(self._keyword_only_model(m, c, depth + 1) for m, c in self._bases(module, cls))

    def _fields(self, module: str, cls: ast.ClassDef, depth: int = 0) -> dict[str, Param]:
        out: dict[str, Param] = {}
        if depth < 8:
            for m, c in self._bases(module, cls):
                out.update(self._fields(m, c, depth + 1))
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                n = stmt.target.id
                if n.startswith("_") or n == "model_config" or "ClassVar" in ast.unparse(stmt.annotation):
                    continue
                out.pop(n, None)
                out[n] = Param(n, "FIELD", _field_default(stmt.value))
        return out

    def _members(self, module: str, cls: ast.ClassDef, depth: int = 0) -> dict[str, Shape]:
        out: dict[str, Shape] = {}
        if depth < 8:
            for m, c in reversed(self._bases(module, cls)):  # the first base wins, as in the MRO
                out.update(self._members(m, c, depth + 1))
        for stmt in cls.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if stmt.name.startswith("_") and stmt.name not in ("__init__", "__call__"):
                continue
            decos = {_deco_name(d) for d in stmt.decorator_list}
            if any(d.endswith("overload") for d in decos):
                continue
            if any(d.endswith(".setter") or d.endswith(".deleter") for d in decos):
                continue
            if decos & _PYDANTIC_HOOKS:  # validation/serialisation hooks pydantic calls, not user API
                continue
            if "property" in decos or "cached_property" in decos or "functools.cached_property" in decos:
                out[stmt.name] = Shape("property")
            else:
                out[stmt.name] = _func_shape(stmt)
        return out

    def shape(self, module: str, name: str) -> Shape | None:
        mod, node = self.find(module, name)
        if node is None:
            return None if mod.split(".")[0] == self.package else Shape("value")
        if isinstance(node, ast.Module):
            return Shape("module")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return _func_shape(node)
        if isinstance(node, ast.ClassDef):
            members = self._members(mod, node)
            if any(ast.unparse(b) in _ENUM_BASES or ast.unparse(b).endswith("Enum") for b in node.bases):
                vals = []
                str_enum = any(ast.unparse(b).endswith("StrEnum") for b in node.bases)
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
                        member = stmt.targets[0].id
                        auto = isinstance(stmt.value, ast.Call) and _deco_name(stmt.value).endswith("auto")
                        value = repr(member.lower()) if auto and str_enum else _literal(stmt.value)
                        vals.append(f"{member}={value}")
                return Shape("enum", values=tuple(sorted(vals)))
            init = members.pop("__init__", None)
            if self._is_model(mod, node) and init is not None and init.kind == "function":
                # an explicit constructor (``@dataclass(init=False)``, custom ``__init__``) is the signature
                return Shape("model", init.params[1:], ordered=True, members=members)
            if self._is_model(mod, node):
                fields = tuple(self._fields(mod, node).values())
                return Shape("model", fields, ordered=not self._keyword_only_model(mod, node), members=members)
            if init is not None:
                members["__init__"] = init
            return Shape("class", members=members)
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        literal_heads = ("Literal[", "typing.Literal[", "typing_extensions.Literal[")
        if value is not None and ast.unparse(value).startswith(literal_heads):
            sl = value.slice  # type: ignore[attr-defined]
            elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            return Shape("literal", values=tuple(sorted(_literal(e) for e in elts)))
        return Shape("value")


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
    if isinstance(attr, property) or (hasattr(attr, "__set_name__") and not callable(attr)):
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
    while out and out[-1].name.startswith("_") and out[-1].name not in names and (
        out[-1].default != MISSING or out[-1].kind in ("VAR_KEYWORD", "VAR_POSITIONAL")
    ):
        out.pop()
    kept = [p for p in out if not (p.name.startswith("_") and p.name not in names and p.kind == "KEYWORD_ONLY"
                                   and p.default != MISSING)]
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
            out[m] = "tinkerlite" + m[len("tinker"):]
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
        out[m] = "tinkerlite" + m[len("tinker_cookbook"):]
    return out


def sdk_report(root: Path) -> Report:
    pkg = OfficialPackage(root, "tinker")
    return diff_package(pkg, sdk_mapping(pkg))


def cookbook_report(root: Path) -> Report:
    pkg = OfficialPackage(root, "tinker_cookbook")
    return diff_package(pkg, cookbook_mapping(pkg))
