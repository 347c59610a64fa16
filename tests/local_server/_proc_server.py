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


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        return f.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (the server's sampling workers)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid:
            try:
                if int(_stat(int(entry))[1]) == pid:  # ppid is the second field after the command
                    out.append(int(entry))
            except OSError:
                continue
    return out


def rss_mib(pid: int) -> tuple[float, float]:
    """``(VmRSS, VmHWM)`` in MiB of ``pid`` plus its live children: the resident set now and its peak."""
    rss = peak = 0.0
    for p in [pid, *children(pid)]:
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key == "VmRSS":
                        rss += int(value.split()[0]) / 1024
                    elif key == "VmHWM":
                        peak += int(value.split()[0]) / 1024
        except OSError:
            continue
    return rss, peak


def cpu_s(pid: int) -> float:
    """User + system CPU seconds so far of ``pid``, its live children and its waited-for exited ones."""
    ticks = sum(int(x) for x in _stat(pid)[11:15])  # utime, stime, cutime, cstime
    for child in children(pid):
        try:
            ticks += sum(int(x) for x in _stat(child)[11:13])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")
