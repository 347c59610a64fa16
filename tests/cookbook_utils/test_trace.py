"""utils.trace: @scope / scope_span timings per iteration, Chrome-trace events, client instrumentation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinkerlite.utils import trace


@trace.scope
def work(x: int) -> int:
    time.sleep(0.01)
    return x


@trace.scope
async def awork() -> str:
    trace.update_scope_context({"rows": 3})
    async with trace.scope_span("inner"):
        await asyncio.sleep(0.01)
    return "ok"


def test_iteration_window_aggregates_spans(tmp_path: Path) -> None:
    assert work(1) == 1  # no collector, no window: a plain call
    with trace.trace_iteration(step=0) as window:
        work(1)
        work(2)
        assert asyncio.run(awork()) == "ok"
        with trace.scope_span_sync("block"):
            pass
    m = window.get_timing_metrics()
    assert m["time/work:count"] == 2 and m["time/work:total"] >= 0.02 and m["time/work:max"] <= m["time/work:total"]
    assert m["time/awork"] >= m["time/inner"] >= 0.01 and "time/block" in m
    assert m["time/total"] >= m["time/work:total"] + m["time/awork"]
    spans = tmp_path / "spans.jsonl"
    window.write_spans_jsonl(spans, step=0)
    row = json.loads(spans.read_text())
    assert row["step"] == 0 and {s["name"] for s in row["spans"]} == {"work", "awork", "inner", "block"}
    assert min(s["wall_start"] for s in row["spans"]) == 0.0
    gantt = tmp_path / "g.html"
    trace.save_gantt_chart_html(window, 0, gantt)
    assert gantt.read_text().count("<rect") == 5


def test_trace_events_are_balanced_and_carry_context(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    trace.trace_init(flush_interval_sec=0.05, output_file=str(out))
    try:

        async def main() -> None:
            await asyncio.gather(awork(), awork())

        asyncio.run(main())
        work(3)
    finally:
        trace.trace_shutdown()
    events = [json.loads(line) for line in out.read_text().splitlines()]
    begins = [e for e in events if e["ph"] == "B"]
    ends = [e for e in events if e["ph"] == "E"]
    assert (
        sorted(e["name"] for e in begins)
        == sorted(e["name"] for e in ends)
        == sorted(["awork", "awork", "inner", "inner", "work"])
    )
    assert all(e["args"].get("rows") == 3 for e in ends if e["name"] == "awork")
    assert len({e["tid"] for e in begins if e["name"] == "awork"}) == 2  # two tasks, two tracks
    assert any(e["ph"] == "M" and e["name"] == "thread_name" for e in events)
    conv = tmp_path / "events.json"
    subprocess.run(
        [sys.executable, "-m", "tinkerlite.utils.trace", str(out), str(conv)], check=True, capture_output=True
    )
    assert len(json.loads(conv.read_text())) == len(events)


def test_client_methods_are_timed(tmp_path: Path) -> None:
    pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")
    import tinkerlite
    import tinkerlite.local
    from tinkerlite.types import ModelInput, SamplingParams

    with tinkerlite.local.serve(long_poll_s=5.0, api_key="tml-local") as url:
        sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
        sampler = sc.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
        trace.trace_init(output_file=str(tmp_path / "ev.jsonl"))
        try:
            with trace.trace_iteration(step=1) as window:
                sampler.sample(ModelInput.from_ints([1, 2]), 1, SamplingParams(max_tokens=2)).result()
        finally:
            trace.trace_shutdown()
        sc.close()
    assert "time/sample" in window.get_timing_metrics()
    names = [json.loads(line)["name"] for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert names.count("sample") == 2  # begin + end, the end at completion
