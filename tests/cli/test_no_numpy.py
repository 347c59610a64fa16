"""Without the ``local`` extra (a venv with no numpy), the local server refuses at once, naming the extra.

The venv is created bare (``--without-pip``; tinkerlite itself needs no third-party package) and sees
the checkout through PYTHONPATH, so nothing is downloaded.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from .helpers import REPO, one_error_line, run_cli, user_env

EXTRA = "tinkerlite[local]"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("no-numpy-venv")
    venv.create(root, with_pip=False, system_site_packages=False)
    python = str(root / "bin" / "python")
    probe = subprocess.run([python, "-c", "import numpy"], capture_output=True, text=True)
    assert probe.returncode != 0, "numpy is importable in the bare venv"
    return python


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    return user_env(tmp_path / "home")


@pytest.mark.parametrize("args", [["sl"], ["serve", "--port", "0"], ["rl"]], ids=["sl", "serve", "rl"])
def test_commands_fail_fast_naming_the_extra(
    bare_python: str, tmp_path: Path, env: dict[str, str], args: list[str]
) -> None:
    t0 = time.monotonic()
    done = run_cli(
        [*args, *([f"log_path={tmp_path / 'run'}"] if args[0] != "serve" else [])], tmp_path, env, bare_python
    )
    elapsed = time.monotonic() - t0
    assert EXTRA in one_error_line(done)
    assert elapsed < 5, elapsed


def test_quickstart_fails_fast_naming_the_extra(bare_python: str, tmp_path: Path, env: dict[str, str]) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    script = tmp_path / "quickstart.py"
    script.write_text(re.findall(r"```python\n(.*?)```", readme, re.S)[0], encoding="utf-8")
    t0 = time.monotonic()
    done = subprocess.run([bare_python, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - t0 < 5
    assert done.returncode != 0 and EXTRA in done.stderr.splitlines()[-1], done.stderr[-2000:]


def test_the_library_itself_needs_no_numpy(bare_python: str, tmp_path: Path, env: dict[str, str]) -> None:
    code = "import tinkerlite as t; from tinkerlite import types; print(t.ServiceClient.__name__)"
    done = subprocess.run([bare_python, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "ServiceClient" in done.stdout, done.stderr
    assert sys.executable != bare_python
