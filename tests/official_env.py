"""Throwaway virtual environments holding the official packages, for goldens, conformance tests and benches.

The official SDK is never a dependency of tinkerlite: it lives in ``bench/_venvs/<name>`` (gitignored),
created on first use and reused afterwards. ``pip`` reaches only the package registry.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_ROOT = Path(os.environ.get("TINKERLITE_OFFICIAL_VENVS", REPO / "bench" / "_venvs"))


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


if __name__ == "__main__":
    print(official_sdk_python(sys.argv[1] if len(sys.argv) > 1 else "0.38.0"))
