"""A cached throwaway venv with the CPU torch wheel, for code that needs real torch (the cookbook's
``rl_loop.py``, ``TensorData.from_torch``/``to_torch``).

torch is never a dependency of tinkerlite nor of its test extra: the venv lives outside the checkout
(:func:`tests.official_env.ensure_venv`), and tinkerlite is imported from the checkout through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.official_env import ensure_venv

TORCH_VENV = "torch-2.13.0-cpu"
TORCH_REQUIREMENTS = ["torch==2.13.0", "numpy", "chz>=0.4", "tqdm"]


def torch_python() -> str:
    """The python of a cached throwaway venv with torch (CPU) and what the recipe path imports; tinkerlite
    itself comes from the checkout through ``PYTHONPATH``. Skips, saying why, where the venv cannot be made."""
    try:
        return str(ensure_venv(TORCH_VENV, TORCH_REQUIREMENTS))
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"cannot create the torch venv {TORCH_VENV!r} ({TORCH_REQUIREMENTS}): {exc}")
        pytest.skip(f"cannot create the torch venv {TORCH_VENV!r} ({TORCH_REQUIREMENTS}; pip install failed: {exc})")
    raise AssertionError("unreachable")  # pragma: no cover
