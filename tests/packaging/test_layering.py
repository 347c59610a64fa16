"""The layer table in README.md, enforced on the imports the package really makes (AST, no execution)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "tinkerlite"

# Bottom to top; a module may import its own layer and those below it (README.md, "Layout").
LAYERS: list[set[str]] = [
    {"backend"},
    {"types", "codec"},
    {"client"},
]
# Deliberate upward imports, each lazy (inside a function) and named with its reason.
ALLOWED = {
    # The SDK's TrainingClient.get_tokenizer() returns the model's tokenizer: loaded on call only.
    ("client/training_client.py", "tokenizers"),
}


def _imports(path: Path) -> set[str]:
    """The top-level ``tinkerlite`` subpackages a module imports (absolute or relative, lazy ones too)."""
    rel = path.relative_to(PKG).parts
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "tinkerlite" and len(parts) > 1:
                    out.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "tinkerlite":
                    out.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
            else:
                base = list(rel[:-1])[: len(rel) - node.level]
                target = [*base, *((node.module or "").split(".") if node.module else [])]
                if target:
                    out.add(target[0])
                else:
                    out.update(a.name for a in node.names)
    return out


def test_lower_layers_never_import_upper_ones() -> None:
    bad = []
    for level, names in enumerate(LAYERS):
        above = set().union(*LAYERS[level + 1 :]) | {"tokenizers", "renderers", "supervised", "rl", "preference"}
        above |= {"distillation", "local", "recipes"}
        for name in names:
            for path in sorted((PKG / name).rglob("*.py")):
                rel = path.relative_to(PKG).as_posix()
                hit = {m for m in _imports(path) & (above - names) if (rel, m) not in ALLOWED}
                if hit:
                    bad.append(f"{path.relative_to(PKG.parent)} imports {sorted(hit)}")
    assert not bad, "\n".join(bad)


def test_the_backend_is_a_leaf() -> None:
    """The backend sits below the wire types (they pack tensors with it): it imports only the leaf modules
    ``_optional`` and ``errors`` (standard library only)."""
    for path in sorted((PKG / "backend").rglob("*.py")):
        assert _imports(path) <= {"backend", "_optional", "errors"}, path
