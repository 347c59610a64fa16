"""Cold import time and memory: ``import tinkerlite`` vs the official ``import tinker``.

Run: ``python bench/bench_import.py`` (creates the official SDK's venv under
~/.cache/tinkerlite/official-venvs on first use).
Each figure is the median of N fresh interpreter processes; RSS is the process's peak RSS after the import
minus that of a bare interpreter started the same way.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.official_env import official_sdk_python  # noqa: E402

PROBE = (
    "import resource, sys, time\n"
    "t = time.perf_counter()\n"
    "{stmt}\n"
    "dt = time.perf_counter() - t\n"
    "print(dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
)


def measure(python: str, stmt: str, env_path: str | None, runs: int) -> tuple[float, float]:
    times, rss = [], []
    env = {"PATH": "/usr/bin:/bin"}
    if env_path:
        env["PYTHONPATH"] = env_path
    for _ in range(runs):
        cmd = [python, "-c", PROBE.format(stmt=stmt)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        dt, kb = out.stdout.split()
        times.append(float(dt))
        rss.append(int(kb) / 1024)
    return statistics.median(times), statistics.median(rss)


def main(runs: int = 7) -> dict[str, float]:
    official = str(official_sdk_python())
    _, base_ours = measure(sys.executable, "pass", None, runs)
    _, base_off = measure(official, "pass", None, runs)
    t_ours, rss_ours = measure(sys.executable, "import tinkerlite", str(REPO), runs)
    # Names resolve lazily, so also time what a training script actually touches.
    t_used, rss_used = measure(
        sys.executable, "import tinkerlite; tinkerlite.ServiceClient; tinkerlite.types.Datum", str(REPO), runs
    )
    t_off, rss_off = measure(official, "import tinker", None, runs)
    res = {
        "tinkerlite_import_ms": t_ours * 1000,
        "tinker_import_ms": t_off * 1000,
        "import_speedup": t_off / t_ours,
        "tinkerlite_rss_delta_mb": rss_ours - base_ours,
        "tinker_rss_delta_mb": rss_off - base_off,
        "tinkerlite_rss_total_mb": rss_ours,
        "tinker_rss_total_mb": rss_off,
        "tinkerlite_with_client_and_types_ms": t_used * 1000,
        "tinkerlite_with_client_and_types_rss_delta_mb": rss_used - base_ours,
    }
    print(
        f"import tinkerlite: {res['tinkerlite_import_ms']:.1f} ms, +{res['tinkerlite_rss_delta_mb']:.1f} MB RSS "
        f"({res['tinkerlite_rss_total_mb']:.1f} MB total)"
    )
    print(
        f"  + ServiceClient and types: {res['tinkerlite_with_client_and_types_ms']:.1f} ms, "
        f"+{res['tinkerlite_with_client_and_types_rss_delta_mb']:.1f} MB RSS"
    )
    print(
        f"import tinker:     {res['tinker_import_ms']:.1f} ms, +{res['tinker_rss_delta_mb']:.1f} MB RSS "
        f"({res['tinker_rss_total_mb']:.1f} MB total)"
    )
    print(
        f"ratio (tinker / tinkerlite): time {res['import_speedup']:.1f}x, "
        f"RSS delta {res['tinker_rss_delta_mb'] / max(res['tinkerlite_rss_delta_mb'], 0.1):.1f}x"
    )
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main()
