"""The signature diff catches what it claims to (a synthetic official package against a synthetic port)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.compat.sigdiff import OfficialPackage, diff_package

OFFICIAL = """
from typing import Literal
from pydantic import BaseModel, Field

Mode = Literal["a", "b"]

class Cfg(BaseModel):
    lr: float = 1e-4
    name: str
    tags: list[str] = Field(default_factory=list)

class Client:
    def __init__(self, url: str, *, key: str | None = None): ...
    def send(self, data, loss_fn: str = "ce"): ...
    async def send_async(self, data): ...
    @property
    def size(self): ...

def f(x, y=1, *args, z, **kw): ...
def g(a, b=2): ...
def forward(self, messages, *args, **kwargs): ...
def gone(): ...
"""

OURS = """
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["a", "c"]

@dataclass(kw_only=True)
class Cfg:
    name: str
    lr: float = 0.0001
    tags: list = field(default_factory=list)

class Client:
    def __init__(self, url, *, key=None, _hook=None): ...
    def send(self, data, loss_fn="mse"): ...
    def send_async(self, data): ...
    def size(self): ...

def f(x, y=1, *args, z, **kw): ...
def g(a, b=2, c=None): ...
def forward(self, messages, role="assistant"): ...
"""


@pytest.fixture()
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "official" / "pkg").mkdir(parents=True)
    (tmp_path / "official" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "official" / "pkg" / "mod.py").write_text(textwrap.dedent(OFFICIAL))
    (tmp_path / "ours" / "portpkg").mkdir(parents=True)
    (tmp_path / "ours" / "portpkg" / "__init__.py").write_text("")
    (tmp_path / "ours" / "portpkg" / "mod.py").write_text(textwrap.dedent(OURS))
    monkeypatch.syspath_prepend(str(tmp_path / "ours"))
    pkg = OfficialPackage(tmp_path / "official", "pkg")
    rep = diff_package(pkg, {"pkg.mod": "portpkg.mod", "pkg.absent": "portpkg.absent"})
    yield rep
    for name in ("portpkg", "portpkg.mod"):
        sys.modules.pop(name, None)


def test_each_kind_of_difference_is_caught(report) -> None:  # type: ignore[no-untyped-def]
    by = {d.qualname.split(":", 1)[1]: d for d in report.diffs}
    assert "Mode" in by and "'c'" in by["Mode"].message  # Literal values
    assert "Cfg" not in by  # keyword-only model: order free, 1e-4 == 0.0001, factory == []
    assert "Client.__init__" not in by  # a trailing private hook is ignored
    assert "loss_fn='ce'" in by["Client.send"].message and "loss_fn='mse'" in by["Client.send"].message
    assert "coroutine there=True" in by["Client.send_async"].message
    assert "property" in by["Client.size"].message
    assert "f" not in by
    assert by["g"].extension and by["forward"].extension  # extra optional param; spelled-out pass-through
    assert not by["Client.send"].extension
    assert report.names_missing == ["pkg.mod:gone"]
    assert report.modules_missing == ["pkg.absent"] and report.modules_both == ["pkg.mod"]
