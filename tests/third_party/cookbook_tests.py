"""Run a cookbook ``*_test.py`` file unchanged but for the port's import rewrite, in a pytest subprocess.

Returns each test's outcome by id, so a caller can assert that everything passes except a listed set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.official_env import REPO, official_source, rewrite_imports


def run_cookbook_test(rel_path: str, tmp: Path, timeout: int = 600, python: str | None = None) -> dict[str, str]:
    """``rel_path`` under the cookbook's ``tinker_cookbook/``; {test name: passed|failed|error|skipped}.

    ``python``: another interpreter (a throwaway venv with what the test needs); tinkerlite still comes
    from the checkout through ``PYTHONPATH``.
    """
    src = official_source("cookbook") / "tinker_cookbook" / rel_path
    dst = tmp / ("cookbook_" + src.name)
    dst.write_text(rewrite_imports(src.read_text(encoding="utf-8")), encoding="utf-8")
    report = tmp / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            python or sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            str(dst),
            "--rootdir",
            str(tmp),
        ],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if not report.exists():
        raise AssertionError(f"pytest did not run {rel_path}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    out: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "?")
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        key = f"{cls}::{name}" if cls and not cls.startswith("cookbook_") else name
        kinds = {child.tag for child in case}
        out[key] = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
    if not out:
        raise AssertionError(f"no tests collected from {rel_path}:\n{proc.stdout[-4000:]}")
    return out
