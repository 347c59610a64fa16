"""Throwaway virtual environments holding the official packages, for goldens, conformance tests and benches.

The official SDK is never a dependency of tinkerlite: it lives in a user cache outside the checkout
(``$TINKERLITE_OFFICIAL_VENVS``, default ``~/.cache/tinkerlite/official-venvs/<name>``), created on first use
and reused afterwards. ``pip`` reaches only the package registry.

``official_source`` fetches a pinned official distribution (``pip download --no-deps``, sha256 checked) and
unpacks it, so tests can read the cookbook's own files (its ``tests/downstream_compat``, its recipes) and
``rewrite_imports`` applies the one change a port is allowed: ``tinker_cookbook``/``tinker`` -> ``tinkerlite``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinkerlite"
VENV_ROOT = Path(os.environ.get("TINKERLITE_OFFICIAL_VENVS", _CACHE / "official-venvs"))
DIST_ROOT = VENV_ROOT.parent / "official-dists"

# Pinned official distributions: (pip requirement, file name, sha256).
PINNED: dict[str, tuple[str, str, str]] = {
    "cookbook": (
        "tinker-cookbook==0.6.1",
        "tinker_cookbook-0.6.1.tar.gz",
        "edf66f0a4b2c3b375b9328a4d748a3dae104170bb2bcde0d156f0b22de7a1aa3",
    ),
    "sdk": (
        "tinker==0.38.0",
        "tinker-0.38.0-py3-none-any.whl",
        "7685b29f467a717972fc4104cd944a25226ed357f57595adbe0abec44bada5d0",
    ),
}


def ensure_venv(name: str, requirements: list[str], timeout: float = 900) -> Path:
    """Return the python of venv ``name`` with ``requirements`` installed (created once, file-locked)."""
    root = VENV_ROOT / name
    py = root / "bin" / "python"
    stamp = root / ".requirements"
    wanted = "\n".join(requirements)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if py.exists() and stamp.exists() and stamp.read_text() == wanted:
            return py
        venv.create(root, with_pip=True, clear=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
            check=True,
            timeout=timeout,
        )
        stamp.write_text(wanted)
    return py


def official_sdk_python(version: str = "0.38.0") -> Path:
    """A torch-free venv with ``tinker==version``."""
    return ensure_venv(f"tinker-{version}", [f"tinker=={version}"])


def official_source(which: str, timeout: float = 300) -> Path:
    """Unpacked pinned distribution ``which`` ("cookbook" sdist root, or "sdk" wheel root); fetched once.

    The file is checked against its pinned sha256 before anything is unpacked, so a changed upload fails
    loudly instead of testing against different code.
    """
    req, fname, sha = PINNED[which]
    DIST_ROOT.mkdir(parents=True, exist_ok=True)
    dest = DIST_ROOT / fname.removesuffix(".tar.gz").removesuffix(".whl")
    with open(DIST_ROOT / f".{which}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (dest / ".ok").exists():
            return _root_of(dest)
        archive = DIST_ROOT / fname
        if not archive.exists():
            extra = ["--no-binary", ":all:"] if fname.endswith(".tar.gz") else ["--only-binary", ":all:"]
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                 *extra, "-d", str(DIST_ROOT), req],
                check=True,
                timeout=timeout,
            )
        got = hashlib.sha256(archive.read_bytes()).hexdigest()
        if got != sha:
            archive.unlink()
            raise RuntimeError(f"{fname}: sha256 {got} != pinned {sha}")
        shutil.rmtree(dest, ignore_errors=True)
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        if fname.endswith(".tar.gz"):
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data") if sys.version_info >= (3, 12) else tf.extractall(tmp)
        else:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)
        tmp.rename(dest)
        (dest / ".ok").write_text(sha)
    return _root_of(dest)


def _root_of(dest: Path) -> Path:
    """An sdist unpacks into one top folder; a wheel unpacks flat."""
    kids = [p for p in dest.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(kids) == 1 and (kids[0] / "pyproject.toml").exists():
        return kids[0]
    return dest


def rewrite_imports(source: str) -> str:
    """The port's only edit: ``tinker_cookbook`` -> ``tinkerlite`` and ``tinker`` -> ``tinkerlite``.

    ``import tinker`` becomes ``import tinkerlite as tinker`` so ``tinker.X`` references keep working;
    ``from tinker[.mod] import`` becomes ``from tinkerlite[.mod] import``.
    """
    out = re.sub(r"\btinker_cookbook\b", "tinkerlite", source)
    out = re.sub(r"^(\s*)import tinker[ \t]*$", r"\1import tinkerlite as tinker", out, flags=re.M)
    out = re.sub(r"^(\s*)import tinker\.types as ", r"\1import tinkerlite.types as ", out, flags=re.M)
    out = re.sub(r"^(\s*)from tinker(\.| )", r"\1from tinkerlite\2", out, flags=re.M)
    return out


if __name__ == "__main__":
    print(official_sdk_python(sys.argv[1] if len(sys.argv) > 1 else "0.38.0"))
