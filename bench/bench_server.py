"""Throughput of the local server (``python bench/bench_server.py [--quick]``).

Reports, for the built-in ``tinkerlite/tiny-chat`` model:

* server-side forward_backward tokens/s: 8 × 256-token datums through the real HTTP path (protobuf
  request, protobuf result), timed from submission to result;
* server-side sampling tokens/s: 8 samples × 64 new tokens per request;
* end-to-end SFT step time (forward_backward + optim_step) through tinkerlite's own client, when the
  client is importable.

The machine and its load matter a lot; numbers are printed with the configuration used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinkerlite.local
from tests.local_server._helpers import BASE, Raw, post
from tinkerlite.types import Datum, ModelInput


def batch(n: int, length: int) -> list[Datum]:
    out = []
    for i in range(n):
        toks = [(i * 31 + j * 7) % 250 + 3 for j in range(length + 1)]
        out.append(
            Datum(
                model_input=ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={"target_tokens": toks[1:], "weights": [1.0] * length},
            )
        )
    return out


def bench_fwdbwd(url: str, reps: int) -> dict[str, float]:
    c = Raw(url)
    mid = c.create_model(rank=32)
    data = batch(8, 256)
    n_tok = 8 * 256
    times = []
    seq = 1
    for _ in range(reps + 1):
        t = time.perf_counter()
        c.fwdbwd(mid, seq, data)
        times.append(time.perf_counter() - t)
        seq += 1
    times = times[1:]  # first call warms caches
    med = statistics.median(times)
    return {"fwdbwd_8x256_median_s": med, "fwdbwd_tokens_per_s": n_tok / med}


def bench_sampling(url: str, reps: int) -> dict[str, float]:
    c = Raw(url)
    sid = post(
        url, "create_sampling_session", {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": BASE}
    ).json()["sampling_session_id"]
    times = []
    n_new = 0
    for i in range(reps + 1):
        body = {
            "sampling_session_id": sid,
            "seq_id": i,
            "num_samples": 8,
            "prompt": {"chunks": [{"type": "encoded_text", "tokens": list(range(40, 104))}]},
            "sampling_params": {"max_tokens": 64, "seed": i, "stop": []},
        }
        t = time.perf_counter()
        res = c.sample(body)
        dt = time.perf_counter() - t
        if i:
            times.append(dt)
            n_new += sum(len(s.tokens) for s in res.sequences)
    return {"sample_8x64_median_s": statistics.median(times), "sample_tokens_per_s": n_new / sum(times)}


def bench_client_sft(url: str, reps: int) -> dict[str, float]:
    os.environ["TINKER_BASE_URL"] = url
    os.environ.setdefault("TINKER_API_KEY", "tml-local")
    from tinkerlite import ServiceClient, types

    sc = ServiceClient(base_url=url)
    tc = sc.create_lora_training_client(base_model=BASE, rank=32)
    if "Future" in type(tc).__name__:  # tinkerlite, like SDK 0.38, may return a future of the client
        tc = tc.result()
    data = batch(8, 256)
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        fb = tc.forward_backward(data, "cross_entropy")
        opt = tc.optim_step(types.AdamParams(learning_rate=1e-3))
        fb.result()
        opt.result()
        times.append(time.perf_counter() - t)
    return {"client_sft_step_8x256_median_s": statistics.median(times[1:])}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    reps = 2 if args.quick else 5
    out: dict[str, object] = {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()}
    with tinkerlite.local.serve() as url:
        out.update(bench_fwdbwd(url, reps))
        out.update(bench_sampling(url, reps))
        try:
            out.update(bench_client_sft(url, reps))
        except Exception as e:  # the client is developed in parallel; report rather than hide
            out["client_sft_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
