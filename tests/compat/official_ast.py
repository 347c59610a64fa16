"""The official packages read with ``ast`` (never imported: no torch, no pydantic needed): public names
per module, imports followed to their definition, and each name reduced to a ``Shape``."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from tests.compat.sigshape import (
    ENUM_BASES,
    MISSING,
    MODEL_BASES,
    MODEL_DECORATORS,
    NONLITERAL,
    PYDANTIC_HOOKS,
    Param,
    Shape,
)


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


def _is_plumbing(value: ast.expr) -> bool:
    """``logger = logging.getLogger(...)`` and ``T = TypeVar(...)``: module plumbing, not API."""
    if not isinstance(value, ast.Call):
        return False
    name = ast.unparse(value.func)
    return name.endswith("getLogger") or name.split(".")[-1] in ("TypeVar", "ParamSpec")


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
        """Module statements, descending into ``if``/``try`` blocks; a script's ``if __name__ == "__main__"``
        block defines no importable names and is skipped."""
        for stmt in tree.body:
            if isinstance(stmt, ast.If) and "__name__" in ast.unparse(stmt.test):
                continue
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
                if _is_plumbing(stmt.value):
                    continue
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
        if any(_deco_name(d) in MODEL_DECORATORS for d in cls.decorator_list):
            return True
        if any(ast.unparse(b).split("[")[0].split(".")[-1] in MODEL_BASES for b in cls.bases):
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
                if isinstance(stmt.value, ast.Call) and any(
                    k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False
                    for k in stmt.value.keywords
                ):
                    continue  # ``field(init=False)``: not a constructor argument
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
            if decos & PYDANTIC_HOOKS:  # validation/serialisation hooks pydantic calls, not user API
                continue
            if "property" in decos or "cached_property" in decos or "functools.cached_property" in decos:
                out[stmt.name] = Shape("property")
            else:
                out[stmt.name] = dataclasses.replace(_func_shape(stmt), decorators=tuple(sorted(decos)))
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
            if any(ast.unparse(b) in ENUM_BASES or ast.unparse(b).endswith("Enum") for b in node.bases):
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
