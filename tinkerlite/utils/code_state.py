"""A snapshot of the code a run used (the cookbook's ``utils.code_state``): git HEAD and uncommitted diff.

One section per git repository holding any of ``modules`` (``### repo: <root> @ <HEAD>``, the modules, and
the repo-wide ``git diff HEAD``, staged and unstaged), and a note for modules outside git. Needs the
``git`` executable only for modules inside a repository.
"""

from __future__ import annotations

import importlib
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["code_state"]


def _module_dir(mod: ModuleType) -> Path:
    paths = getattr(mod, "__path__", None)
    if paths is not None:  # a package: its first search path
        return Path(next(iter(paths))).resolve()
    file = getattr(mod, "__file__", None)
    if file is None:
        raise ValueError(f"Module {mod!r} lacks __file__/__path__")
    return Path(file).resolve().parent


def _git(args: list[str], check: bool = True) -> str | None:
    try:
        out = subprocess.run(["git", *args], check=check, capture_output=True, text=True)
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    return out.stdout


def code_state(modules: Sequence[str | ModuleType] = ("tinkerlite",)) -> str:
    """Git revision and local diff of the repositories that hold ``modules`` (import paths or modules)."""
    by_repo: dict[Path, list[str]] = {}
    outside: list[tuple[str, Path]] = []
    for obj in modules:
        mod = obj if isinstance(obj, ModuleType) else importlib.import_module(obj)
        where = _module_dir(mod)
        top = _git(["-C", str(where), "rev-parse", "--show-toplevel"])
        if top is None:
            outside.append((mod.__name__, where))
            continue
        names = by_repo.setdefault(Path(top.strip()).resolve(), [])
        if mod.__name__ not in names:
            names.append(mod.__name__)
    sections = []
    for root in sorted(by_repo, key=str):
        head = (_git(["-C", str(root), "rev-parse", "HEAD"]) or "UNKNOWN").strip()
        diff = _git(["-C", str(root), "diff", "--no-color", "HEAD"], check=False) or ""
        body = "-- repo-wide (vs HEAD, staged+unstaged) --\n" + diff.rstrip() + "\n" if diff else "(no local changes)\n"
        sections.append(f"### repo: {root} @ {head}\nmodules: {', '.join(sorted(by_repo[root]))}\n" + body)
    sections += [f"### module: {name} (not in a git repository)\nmodule_path: {d}\n" for name, d in outside]
    return "\n".join(sections)
