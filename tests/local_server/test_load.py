"""Load: 4 and 8 concurrent clients mixing forward_backward/optim_step and sampling against one server process.

Each client trains its own model and samples with fixed seeds. Every client must end bit-identical to a
solo run of the same work (a lost or duplicated step would change its weights, a mixed-up one its
samples), with no error. Throughput and server RSS are printed (``-s``), never asserted: the machine is
shared.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

from tinkerlite.codec.results_proto import decode_forward_backward_output

from ._helpers import BASE, Raw, post, sft_data
from ._proc_server import cpu_s, rss_mib, server_process

pytestmark = pytest.mark.slow

STEPS = 4
DATUMS, LENGTH = 4, 64
SAMPLES, NEW_TOKENS = 4, 16


@dataclass
class Outcome:
    logprobs: list[list[float]] = field(default_factory=list)
    samples: list[list[list[int]]] = field(default_factory=list)
    sample_logprobs: list[list[list[float]]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    fwd_tokens: int = 0
    sample_tokens: int = 0


def client_run(url: str, variant: int) -> Outcome:
    """One client's mixed workload; ``variant`` picks its data and seeds."""
    c = Raw(url)
    model = c.create_model(rank=4)
    sid = post(
        url, "create_sampling_session", {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": BASE}
    ).json()["sampling_session_id"]
    data = sft_data(DATUMS, LENGTH, offset=variant * 13)
    out = Outcome()
    seq = 1
    for step in range(STEPS):
        rid = c.submit_fwdbwd(model, seq, data)
        c.optim(model, seq + 1, lr=2e-2)
        body = {
            "sampling_session_id": sid,
            "seq_id": step,
            "num_samples": SAMPLES,
            "prompt": {"chunks": [{"type": "encoded_text", "tokens": list(range(40 + variant, 72 + variant))}]},
            "sampling_params": {"max_tokens": NEW_TOKENS, "seed": 100 * variant + step, "stop": []},
        }
        res = c.sample(body)
        out.samples.append([list(s.tokens) for s in res.sequences])
        out.sample_logprobs.append([list(s.logprobs or []) for s in res.sequences])
        out.sample_tokens += sum(len(s.tokens) for s in res.sequences)
        fb = decode_forward_backward_output(c.result(rid, proto=True))
        out.losses.append(float(fb.metrics["loss:sum"]))
        out.fwd_tokens += DATUMS * LENGTH
        seq += 2
    final = c.fwdbwd(model, seq, data, forward_only=True)
    out.logprobs = [o["logprobs"].tolist() for o in final.loss_fn_outputs]
    return out


def run_clients(url: str, n: int) -> tuple[list[Outcome], float]:
    results: dict[int, Outcome] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            results[k] = client_run(url, k % 4)
        except BaseException as e:  # surfaced by the caller
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    assert not errors, errors
    assert len(results) == n, f"{n - len(results)} clients did not finish"
    return [results[k] for k in range(n)], wall


def rate(outcomes: list[Outcome], wall: float) -> tuple[float, float]:
    return sum(o.fwd_tokens for o in outcomes) / wall, sum(o.sample_tokens for o in outcomes) / wall


def test_concurrent_clients_lose_and_duplicate_nothing() -> None:
    with server_process(workers=2) as (url, pid):
        idle_rss, _ = rss_mib(pid)
        # Solo references, one variant at a time (this also warms the server).
        reference: dict[int, Outcome] = {}
        solo_walls = []
        for variant in range(4):
            t0 = time.perf_counter()
            reference[variant] = client_run(url, variant)
            solo_walls.append(time.perf_counter() - t0)
        warm_rss, _ = rss_mib(pid)
        solo_fwd, solo_sample = rate([reference[v] for v in range(4)], sum(solo_walls))
        report = [
            f"server RSS idle {idle_rss:.0f} MiB, after warm-up {warm_rss:.0f} MiB",
            f"1 client : fwd/bwd {solo_fwd:7.0f} tok/s  sampling {solo_sample:6.0f} tok/s",
        ]
        for n in (4, 8):
            cpu0 = cpu_s(pid)
            outcomes, wall = run_clients(url, n)
            cpu = cpu_s(pid) - cpu0
            rss, peak = rss_mib(pid)
            for k, got in enumerate(outcomes):
                want = reference[k % 4]
                assert got.losses == want.losses, f"client {k}: step losses differ (lost or repeated step)"
                assert got.samples == want.samples, f"client {k}: samples differ from the solo run"
                # Concurrent requests of one sampler decode as one batch; that must not change a bit.
                assert got.sample_logprobs == want.sample_logprobs, f"client {k}: sampled log-probs differ"
                assert got.logprobs == want.logprobs, f"client {k}: final weights differ from the solo run"
            fwd, smp = rate(outcomes, wall)
            report.append(
                f"{n} clients: fwd/bwd {fwd:7.0f} tok/s ({fwd / solo_fwd:.2f}x)  sampling {smp:6.0f} tok/s "
                f"({smp / solo_sample:.2f}x)  server CPU {cpu:.1f} s over {wall:.1f} s wall  "
                f"RSS {rss:.0f} MiB (peak {peak:.0f})"
            )
        # Distinct variants really trained differently: the comparisons above are not vacuous.
        assert reference[0].logprobs != reference[1].logprobs and reference[0].samples != reference[1].samples
    print("\n" + "\n".join(report))
