"""A ``tinkerlite serve`` subprocess for load measurements: its own interpreter (its own GIL), its RSS readable."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def server_process(workers: int = 2, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """Yield ``(base_url, pid)`` of a fresh server on a free port, run from the source tree ``root``
    (another tree lets a benchmark run an older revision side by side); BLAS limited to one thread."""
    env = {**os.environ, "PYTHONPATH": str(root), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as state:
        cmd = [sys.executable, "-m", "tinkerlite", "serve", "--port", "0", "--state-dir", state]
        proc = subprocess.Popen(
            [*cmd, "--workers", str(workers)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=root,
        )
        try:
            assert proc.stdout is not None
            deadline, url = time.monotonic() + 120, ""
            while time.monotonic() < deadline and not url:
                line = proc.stdout.readline()
                if not line and proc.poll() is not None:
                    raise RuntimeError(f"tinkerlite serve exited with {proc.returncode}")
                if line.strip().startswith("export TINKER_BASE_URL="):
                    url = line.strip().split("=", 1)[1]
            if not url:
                raise RuntimeError("tinkerlite serve printed no URL within 120 s")
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def rss_mib(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` of ``pid`` in MiB: the resident set now and its peak so far."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (from ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
