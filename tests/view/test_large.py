"""A 1-million-row ``metrics.jsonl`` is read streaming, in bounded memory (RSS reported), and served."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from tinkerlite.view.runs import read_metrics, run_summary
    from tinkerlite.view.server import to_json_bytes
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    m = read_metrics(sys.argv[1], max_points=2000)
    body = to_json_bytes(m.to_json())
    s = run_summary(sys.argv[1])
    print(json.dumps({"rows": m.rows, "seconds": time.perf_counter() - t0, "base_kb": base,
                      "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "answer_bytes": len(body),
                      "max_points": max(len(v.points()) for v in m.series.values()), "steps": s["steps"]}))
    """
)


@pytest.mark.slow
def test_million_row_metrics_in_bounded_memory(tmp_path: Path) -> None:
    run = tmp_path / "huge"
    run.mkdir()
    n = 1_000_000
    with open(run / "metrics.jsonl", "w") as f:
        for i in range(n):
            row = {
                "step": i,
                "train_mean_nll": 5.0 / (1 + i / 5000),
                "learning_rate": 1e-4 * (1 - i / n),
                "num_tokens": 4096,
                "num_loss_tokens": 1500 + i % 97,
                "grad_norm:mean": 1.0 + (i % 13) / 13,
                "tokens/cumulative/trained": 4096 * (i + 1),
                "time/total": 0.25,
                "progress": i / n,
            }
            f.write(json.dumps(row) + "\n")
        f.write('{"step": 1000000, "train_mean_nll": 0.1')  # and a half-written last line
    size_mb = (run / "metrics.jsonl").stat().st_size / 1e6
    p = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(run)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    grown_mb = (out["peak_kb"] - out["base_kb"]) / 1024
    print(
        f"\n1M-row metrics.jsonl ({size_mb:.0f} MB): read in {out['seconds']:.1f} s, "
        f"RSS {out['base_kb'] / 1024:.0f} MB "
        f"-> {out['peak_kb'] / 1024:.0f} MB (+{grown_mb:.1f} MB), answer {out['answer_bytes'] / 1e3:.0f} KB"
    )
    assert out["rows"] == n and out["steps"] == n - 1
    assert out["max_points"] <= 2000
    assert grown_mb < 64, out  # bounded: independent of the file's size (the file is far bigger)
    assert out["answer_bytes"] < 2_000_000
