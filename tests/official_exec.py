"""Run one official cookbook source file at test time under stub parent packages, leaving sys.modules as it was.

The differential tests (media utils, benchmark graders, rollout logging, stores) execute the pinned sdist's
module text directly, so they need only stand-ins for the few package imports it makes; this is the one place
that installs those stand-ins and puts every touched ``sys.modules`` entry back afterwards.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.official_env import official_source

__all__ = ["exec_module_file", "load_official", "modules_swapped"]


@contextmanager
def modules_swapped(stubs: dict[str, types.ModuleType], also: Iterable[str] = ()) -> Iterator[None]:
    """``stubs`` in ``sys.modules`` for the block; then each stubbed name (and each of ``also``) as it was."""
    saved = {k: sys.modules.get(k) for k in [*stubs, *also]}
    sys.modules.update(stubs)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def exec_module_file(path: Path, name: str, *, register: bool = False) -> types.ModuleType:
    """A module named ``name`` holding ``path``'s code (in ``sys.modules`` first when ``register``)."""
    mod = types.ModuleType(name)
    if register:
        sys.modules[name] = mod
    exec(compile(path.read_text(), str(path), "exec"), mod.__dict__)
    return mod


def load_official(
    rel: str, name: str, stubs: dict[str, types.ModuleType], *, register: bool = False
) -> types.ModuleType:
    """``tinker_cookbook/<rel>`` of the pinned cookbook sdist, executed with ``stubs`` standing in for its imports."""
    path = official_source("cookbook") / "tinker_cookbook" / rel
    with modules_swapped(stubs):
        return exec_module_file(path, name, register=register)
