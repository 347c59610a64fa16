"""rl.train's step functions and display against the official cookbook 0.6.1, on the same script.

tests/rl/cookbook_train_probe.py drives ``prepare_minibatch`` (datums, metrics, usage, the printed groups),
``train_step`` (what is sent, in which order, the metrics and returned logprobs),
``compute_full_batch_metrics_and_get_sampling_client`` (a due checkpoint), the streaming step under four
minibatch/substep configurations (with filtered groups), ``print_group`` and ``format_trajectory`` with a
recording training client. It runs unchanged in a throwaway venv with the official packages, and through
``rewrite_imports`` here; the outputs must agree (floats to 1e-6).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.official_env import ensure_venv, rewrite_imports

pytestmark = [pytest.mark.network_registry, pytest.mark.slow]

PROBE = Path(__file__).with_name("cookbook_train_probe.py")
VENV = "cookbook-0.6.1"  # the one tests/golden/make_rl_goldens.py makes (torch, tinker 0.38)
REQUIREMENTS = ["tinker==0.38.0", "torch==2.13.0", "numpy", "chz", "pillow", "typing_extensions"]
# What rl/train.py and display.py import beyond the data-processing goldens' venv.
EXTRA = ["termcolor", "tqdm", "blobfile", "datasets"]


def _official_python() -> Path:
    py = ensure_venv(VENV, REQUIREMENTS)
    probe = "import tinker_cookbook.rl.train, tinker_cookbook.display"
    if subprocess.run([str(py), "-c", probe], capture_output=True).returncode != 0:
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", "tinker-cookbook==0.6.1"], check=True, timeout=600)
        subprocess.run([*pip, *EXTRA], check=True, timeout=600)
    return py


def _close(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= 1e-6 else [f"{path}: {a} != {b}"]
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _close(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_step_functions_and_display_match_the_cookbook(tmp_path: Path) -> None:
    py = _official_python()
    done = subprocess.run([str(py), str(PROBE)], capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = json.loads(done.stdout)

    module = types.ModuleType("cookbook_train_probe_tinkerlite")
    sys.modules[module.__name__] = module
    try:
        exec(compile(rewrite_imports(PROBE.read_text()), str(PROBE), "exec"), module.__dict__)
        ours = json.loads(json.dumps(asyncio.run(module.main())))
    finally:
        del sys.modules[module.__name__]
    assert (
        set(ours)
        == set(theirs)
        == {"prepare", "train_step", "full_batch", "streaming", "print_group", "format_trajectory"}
    )
    for part in theirs:
        assert not _close(theirs[part], ours[part], part), _close(theirs[part], ours[part], part)[:10]
