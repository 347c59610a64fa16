"""Client overhead per request on loopback, tinkerlite vs the official SDK, same recording server.

Run: ``python -m tests.client.bench_overhead [n]`` (needs the official venv, see tests/official_env.py).
Each SDK runs in its own process against a fresh server; reported per SDK: sequential
optim_step submit+retrieve (ms), sequential sample submit+retrieve (ms), 4n concurrent samples/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from .official_trace import REPO, official_python
from .recording_server import API_KEY, RecordingServer


def flow(sdk: str, url: str, n: int) -> dict[str, Any]:
    if sdk == "tinker":
        import tinker  # type: ignore[import-not-found]
        from tinker import types

        service_cls: Any = tinker.ServiceClient
    else:
        from tinkerlite import types
        from tinkerlite.client import ServiceClient

        service_cls = ServiceClient
    sc = service_cls(base_url=url, api_key=API_KEY)
    tc = sc.create_lora_training_client(base_model="Base/Model", rank=8).result()
    samp = sc.create_sampling_client(base_model="Base/Model").result()
    prompt = types.ModelInput.from_ints([1, 2, 3])
    sp = types.SamplingParams(max_tokens=2)
    for _ in range(5):
        tc.optim_step(types.AdamParams()).result()
        samp.sample(prompt, 1, sp).result()
    t0 = time.perf_counter()
    for _ in range(n):
        tc.optim_step(types.AdamParams()).result()
    t1 = time.perf_counter()
    for _ in range(n):
        samp.sample(prompt, 1, sp).result()
    t2 = time.perf_counter()
    futs = [samp.sample(prompt, 1, sp) for _ in range(4 * n)]
    for f in futs:
        f.result()
    t3 = time.perf_counter()
    sc.close("success").result()
    return {
        "sdk": sdk,
        "optim_step_ms": round((t1 - t0) / n * 1e3, 2),
        "sample_ms": round((t2 - t1) / n * 1e3, 2),
        "concurrent_samples_per_s": round(4 * n / (t3 - t2), 1),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(flow(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    env = {**os.environ, "TINKER_TELEMETRY": "0", "PYTHONPATH": str(REPO)}
    for sdk, py in (("tinkerlite", sys.executable), ("tinker", official_python())):
        with RecordingServer() as srv:
            proc = subprocess.run(
                [py, "-m", "tests.client.bench_overhead", "--child", sdk, srv.url, str(n)],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            print(proc.stdout.strip() or proc.stderr[-2000:])


if __name__ == "__main__":
    main()
