"""Throughput of the local server, 1 client against 4, optionally against an older revision
(``python bench/bench_server.py [--quick] [--baseline REV]``).

Each contender is a ``tinkerlite serve`` subprocess (its own interpreter: clients do not share its GIL).
Rounds are interleaved — for every repetition, every contender runs 1 client then 4 clients — and the
medians are reported, with the server's CPU seconds (``/proc/<pid>/stat``, its sampling worker processes
included) next to wall time, and its RSS (the workers' included) at idle and under load. Each round's
clients first send one request each, all at once (what the server sets up once is not timed), then 12
(tiny-chat) or 3 (151k) requests each, one after another. Workloads, each client on its own model or sampler:

* ``tinkerlite/tiny-chat`` forward_backward, 8 × 256-token datums per request, and sampling, 8 samples × 64
  new tokens per request;
* a Qwen3-sized vocabulary (``Qwen/Qwen3-8B`` stand-in, 151,936 ids): forward_backward 4 × 128 tokens,
  sampling 4 × 32 new tokens.

``--baseline REV`` extracts that revision with ``git archive`` into a temporary directory (the checkout is
not touched) and runs its server as a second contender, so "today" is measured next to "now".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.local_server._helpers import BASE, Raw, post  # noqa: E402
from tests.local_server._proc_server import cpu_s, rss_mib, server_process  # noqa: E402
from tinkerlite.types import Datum, ModelInput  # noqa: E402

QWEN = "Qwen/Qwen3-8B"


def batch(n: int, length: int, vocab_hi: int) -> list[Datum]:
    out = []
    for i in range(n):
        toks = [(i * 31 + j * 7919) % vocab_hi + 3 for j in range(length + 1)]
        w = [1.0] * length
        out.append(
            Datum(model_input=ModelInput.from_ints(toks[:-1]), loss_fn_inputs={"target_tokens": toks[1:], "weights": w})
        )
    return out


class Workload:
    """One kind of request, run by ``n`` concurrent clients for ``reps`` requests each."""

    def __init__(self, name: str, base: str, kind: str, size: tuple[int, int], vocab_hi: int, reps: int = 1) -> None:
        self.name, self.base, self.kind, self.size, self.vocab_hi = name, base, kind, size, vocab_hi
        self.reps = reps  # requests per client per round, times the --quick/default count

    def client(self, url: str, k: int) -> Callable[[int], int]:
        """Set up client ``k`` and return ``step(i) -> tokens processed``."""
        c = Raw(url)
        n, length = self.size
        if self.kind == "fwdbwd":
            model = c.create_model(base_model=self.base, rank=32)
            data = batch(n, length, self.vocab_hi)
            return lambda i: (c.fwdbwd(model, i + 1, data), n * length)[1]
        body = {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": self.base}
        sid = post(url, "create_sampling_session", body).json()["sampling_session_id"]

        def step(i: int) -> int:
            req = {
                "sampling_session_id": sid,
                "seq_id": i,
                "num_samples": n,
                "prompt": {"chunks": [{"type": "encoded_text", "tokens": list(range(40, 104))}]},
                "sampling_params": {"max_tokens": length, "seed": 1000 * k + i, "stop": []},
            }
            return sum(len(s.tokens) for s in c.sample(req).sequences)

        return step

    def run(self, url: str, pid: int, clients: int, reps: int) -> tuple[float, float]:
        """``(tokens per wall second, server CPU milliseconds per 1000 tokens)`` for one round."""
        steps = [self.client(url, k) for k in range(clients)]
        # Warm, all clients at once: first requests pay model creation and caches, and concurrent ones
        # start what a server starts once under concurrency (its sampling worker processes).
        warm = [threading.Thread(target=s, args=(0,)) for s in steps]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        counts = [0] * clients

        def worker(k: int) -> None:
            for i in range(1, reps + 1):
                counts[k] += steps[k](i)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
        cpu0, t0 = cpu_s(pid), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.perf_counter() - t0, cpu_s(pid) - cpu0
        return sum(counts) / wall, 1e6 * cpu / sum(counts)


@contextmanager
def revision_tree(rev: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tinkerlite-baseline-") as d:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
        tar_path = Path(d) / "src.tar"
        tar_path.write_bytes(archive)
        with tarfile.open(tar_path) as tf:
            tf.extractall(Path(d) / "tree", filter="data")
        yield Path(d) / "tree"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--baseline", default=None, help="git revision to run side by side (e.g. HEAD~5)")
    ap.add_argument("--no-large", action="store_true", help="skip the 151k-vocabulary workloads")
    ap.add_argument("--only", default="", help="run only workloads whose name contains this (e.g. 'sampling')")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3; --quick 2)")
    args = ap.parse_args()
    rounds, reps = (2, 2) if args.quick else (3, 3)
    rounds = args.rounds or rounds
    workloads = [
        Workload("tiny fwd/bwd 8x256", BASE, "fwdbwd", (8, 256), 250, reps=4),
        Workload("tiny sampling 8x64", BASE, "sample", (8, 64), 250, reps=4),
    ]
    if not args.no_large:
        workloads += [
            Workload("151k fwd/bwd 4x128", QWEN, "fwdbwd", (4, 128), 150_000),
            Workload("151k sampling 4x32", QWEN, "sample", (4, 32), 150_000),
        ]
    workloads = [w for w in workloads if args.only in w.name]
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs; medians of {rounds} interleaved rounds")
    with ExitStack() as stack:
        contenders = {"now": stack.enter_context(server_process())}
        if args.baseline:
            tree = stack.enter_context(revision_tree(args.baseline))
            contenders[f"baseline {args.baseline}"] = stack.enter_context(server_process(root=tree))
        for name, (_, pid) in contenders.items():
            print(f"{name}: server RSS at idle {rss_mib(pid)[0]:.0f} MiB")
        results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
        for w in workloads:
            for _ in range(rounds):
                for name, (url, pid) in contenders.items():
                    for clients in (1, 4):
                        results.setdefault((w.name, name, clients), []).append(w.run(url, pid, clients, reps * w.reps))
            for name in contenders:
                med = {n: statistics.median(r[0] for r in results[(w.name, name, n)]) for n in (1, 4)}
                cpu = {n: statistics.median(r[1] for r in results[(w.name, name, n)]) for n in (1, 4)}
                pairs = zip(results[(w.name, name, 1)], results[(w.name, name, 4)], strict=True)
                ratios = [r4[0] / r1[0] for r1, r4 in pairs]
                print(
                    f"{w.name:22s} {name:18s} 1 client {med[1]:8.0f} tok/s ({cpu[1]:6.1f} CPU-ms/1k tok)  "
                    f"4 clients {med[4]:8.0f} tok/s ({cpu[4]:6.1f})  4/1 = {med[4] / med[1]:.2f} "
                    f"(per round {', '.join(f'{x:.2f}' for x in ratios)})"
                )
            if args.baseline:
                base = f"baseline {args.baseline}"
                for n in (1, 4):
                    now = statistics.median(r[0] for r in results[(w.name, "now", n)])
                    then = statistics.median(r[0] for r in results[(w.name, base, n)])
                    now_cpu = statistics.median(r[1] for r in results[(w.name, "now", n)])
                    then_cpu = statistics.median(r[1] for r in results[(w.name, base, n)])
                    print(
                        f"{w.name:22s} now/baseline, {n} client(s): throughput {now / then:.2f}x, "
                        f"CPU per token {now_cpu / then_cpu:.2f}"
                    )
        for name, (_, pid) in contenders.items():
            rss, peak = rss_mib(pid)
            print(f"{name}: server RSS after the load {rss:.0f} MiB, peak {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
