"""The vendor configs ship inside the wheel and the loader finds them there (not in a source checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _stage_source(dest: Path) -> Path:
    """Snapshot the checkout (minus VCS, caches, venvs and tests) and build the wheel from the snapshot.

    Other developers edit the checkout concurrently; building a copy keeps this test about packaging.
    """
    ignore = shutil.ignore_patterns(
        ".git", "__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache", "_venvs", ".venv*", "tests",
        "build", "dist", "*.egg-info",
    )
    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


@pytest.mark.slow
def test_wheel_contains_vendor_configs_and_loader_reads_them(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "whl"
    source = _stage_source(tmp_path / "src")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir),
         str(source)],
        capture_output=True, text=True, timeout=240,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheel_dir.glob("tinkerlite-*.whl")
    expected = sorted(p.name for p in (REPO / "vendor_configs").glob("*.json"))
    with zipfile.ZipFile(wheel) as zf:
        prefix = "tinkerlite/vendor_configs/"
        packaged = sorted(n[len(prefix):] for n in zf.namelist() if n.startswith(prefix) and n.endswith(".json"))
        assert packaged == expected
        assert not any(n.startswith("vendor_configs/") for n in zf.namelist())  # only under the package
        for name in expected:
            assert zf.read(f"tinkerlite/vendor_configs/{name}") == (REPO / "vendor_configs" / name).read_bytes()
        site = tmp_path / "site"
        zf.extractall(site)

    # Import the unpacked wheel from a directory with no vendor_configs/ next to it: the loader must use the
    # packaged copy via importlib.resources.
    probe = (
        "import tinkerlite, tinkerlite.vendor_configs_loader as m, tinkerlite.hyperparam_utils as hp;"
        "print(tinkerlite.__file__);"
        "print([str(e) for e in m.vendor_configs_root().iterdir() if e.name == 'Qwen--Qwen3-8B.json'][0]);"
        "print(len(m.load_all()));"
        "print(hp.get_lora_param_count('Qwen/Qwen3-8B'))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    module_file, config_file, count, lora = run.stdout.split("\n")[:4]
    assert Path(module_file).is_relative_to(site)
    assert Path(config_file).resolve() == (site / "tinkerlite" / "vendor_configs" / "Qwen--Qwen3-8B.json").resolve()
    assert int(count) == len(expected)
    assert int(lora) == 92_286_976
