"""Cold import time and memory: ``import tinkerlite`` vs the official ``import tinker``.

Run: ``python bench/bench_import.py`` (creates the official SDK's venv under
~/.cache/tinkerlite/official-venvs on first use).
Each figure is the median of N fresh interpreter processes, the contenders alternating (A B A B ...); wall
and CPU time of the import statement itself; RSS is the process's peak RSS after the import, also shown
minus that of a bare interpreter started the same way.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.official_env import official_sdk_python  # noqa: E402

PROBE = (
    "import resource, sys, time\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "{stmt}\n"
    "dt, dc = time.perf_counter() - t, time.process_time() - c\n"
    "print(dt, dc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def probe(python: str, stmt: str, env_path: str | None) -> tuple[float, float, float]:
    """One fresh interpreter: (wall s, CPU s, peak RSS MB) of ``stmt``."""
    env = {"PATH": "/usr/bin:/bin"}
    if env_path:
        env["PYTHONPATH"] = env_path
    out = subprocess.run(
        [python, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True, env=env, check=True, cwd="/"
    )
    dt, dc, kb = out.stdout.split()
    return float(dt), float(dc), int(kb) / 1024


def main(runs: int = 7) -> dict[str, float]:
    official = str(official_sdk_python())
    ours = sys.executable
    # Contenders alternate round by round (A B A B ...), each run a fresh interpreter.
    contenders = {
        "bare ours": (ours, "pass", None),
        "bare official": (official, "pass", None),
        "import tinkerlite": (ours, "import tinkerlite", str(REPO)),
        "import tinker": (official, "import tinker", None),
        "from tinkerlite import ServiceClient, types": (ours, "from tinkerlite import ServiceClient, types", str(REPO)),
        "from tinker import ServiceClient, types": (official, "from tinker import ServiceClient, types", None),
    }
    samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in contenders}
    for _ in range(runs):
        for name, (python, stmt, path) in contenders.items():
            samples[name].append(probe(python, stmt, path))
    med = {k: tuple(statistics.median(s[i] for s in v) for i in range(3)) for k, v in samples.items()}
    print(f"medians of {runs} interleaved fresh interpreters; load average {os.getloadavg()}")
    res: dict[str, float] = {}
    for name, (wall, cpu, rss) in med.items():
        base = med["bare official" if contenders[name][0] == official else "bare ours"][2]
        extra = "" if name.startswith("bare") else f", +{rss - base:.1f} MB RSS over a bare interpreter"
        print(f"  {name:<46} {wall * 1e3:7.1f} ms wall {cpu * 1e3:7.1f} ms CPU, {rss:.1f} MB peak RSS{extra}")
        res[f"{name} wall_ms"], res[f"{name} cpu_ms"], res[f"{name} rss_mb"] = wall * 1e3, cpu * 1e3, rss
    for ours_name, theirs in (
        ("import tinkerlite", "import tinker"),
        ("from tinkerlite import ServiceClient, types", "from tinker import ServiceClient, types"),
    ):
        (ow, oc, _), (tw, tc, _) = med[ours_name], med[theirs]
        print(f"ratio {ours_name} / {theirs}: {oc / tc:.3f} CPU, {ow / tw:.3f} wall")
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
