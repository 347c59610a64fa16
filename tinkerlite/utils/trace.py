"""Timing spans for training loops (the cookbook's ``utils.trace``): Perfetto/Chrome traces and per-step timings.

Two independent sinks, both off by default and free when off:

* ``trace_init(output_file=...)`` starts a collector that appends Chrome-trace events (JSONL, one event per
  line; ``python -m tinkerlite.utils.trace in.jsonl out.json`` makes a file Perfetto / chrome://tracing open)
  for every ``@scope`` function, ``scope_span`` block and the clients' request methods (patched at init,
  as the cookbook does). Each asyncio task gets its own track, grouped by thread.
* ``with trace_iteration(step) as window:`` records the same spans for one training step;
  ``window.get_timing_metrics()`` gives ``time/<name>`` (or ``:total/:count/:mean/:max`` for repeated
  spans) plus ``time/total``, ready to log; ``save_gantt_chart_html`` draws the step's spans (inline SVG,
  no plotly needed).

Request methods that return a future (``sample``, ``compute_logprobs``, ...) are timed until the future
completes, the others until they return (submission), as in the cookbook.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import functools
import html
import inspect
import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, cast

__all__ = [
    "CreateTraceEventsResult",
    "EventType",
    "FunctionCallContext",
    "IterationWindow",
    "ScopeContext",
    "SpanRecord",
    "TraceCollector",
    "TraceEvent",
    "convert_jsonl_to_json_main",
    "get_scope_context",
    "save_gantt_chart_html",
    "scope",
    "scope_span",
    "scope_span_sync",
    "trace_init",
    "trace_iteration",
    "trace_shutdown",
    "update_scope_context",
]

F = TypeVar("F", bound=Callable[..., Any])
_future_track_ids = itertools.count(1_000_000)


class EventType(str, Enum):
    """Chrome-trace event phases."""

    BEGIN = "B"
    END = "E"
    METADATA = "M"


@dataclass
class TraceEvent:
    name: str
    ph: EventType
    pid: int
    tid: int
    ts: float
    args: dict[str, Any] = field(default_factory=dict)
    cat: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "ph": self.ph.value, "pid": self.pid, "tid": self.tid, "ts": self.ts, "args": self.args}
        if self.cat is not None:
            d["cat"] = self.cat
        return d


@dataclass
class ScopeContext:
    """Attributes added inside a span (:func:`update_scope_context`) land in its end event's ``args``."""

    attributes: dict[str, Any] = field(default_factory=dict)


trace_context: ContextVar[ScopeContext | None] = ContextVar("trace_context", default=None)


@dataclass
class SpanRecord:
    """A finished span: ``perf_counter`` times for durations, wall times to line up processes."""

    name: str
    start_time: float
    end_time: float
    wall_start: float
    wall_end: float


class IterationWindow:
    """The spans of one training iteration (thread-safe), and their aggregate timings."""

    def __init__(self) -> None:
        self.spans: list[SpanRecord] = []
        self._lock = threading.Lock()
        self._total_time: float | None = None

    def record_span(self, name: str, start_time: float, end_time: float) -> None:
        now_wall, now_perf = time.time(), time.perf_counter()
        rec = SpanRecord(
            name, start_time, end_time, now_wall - (now_perf - start_time), now_wall - (now_perf - end_time)
        )
        with self._lock:
            self.spans.append(rec)

    def merge_spans(self, spans: list[SpanRecord]) -> None:
        with self._lock:
            self.spans.extend(spans)

    def _snapshot(self) -> list[SpanRecord]:
        with self._lock:
            return list(self.spans)

    def aggregate(self) -> dict[str, float]:
        """``time/<name>`` for a span seen once; ``time/<name>:total|:count|:mean|:max`` for repeats."""
        by_name: dict[str, list[float]] = defaultdict(list)
        for s in self._snapshot():
            by_name[s.name].append(s.end_time - s.start_time)
        out: dict[str, float] = {}
        for name, ds in by_name.items():
            if len(ds) == 1:
                out[f"time/{name}"] = ds[0]
            else:
                out.update(
                    {
                        f"time/{name}:total": sum(ds),
                        f"time/{name}:count": len(ds),
                        f"time/{name}:mean": sum(ds) / len(ds),
                        f"time/{name}:max": max(ds),
                    }
                )
        return out

    def get_timing_metrics(self) -> dict[str, float]:
        """:meth:`aggregate` plus ``time/total`` once the iteration has ended."""
        out = self.aggregate()
        if self._total_time is not None:
            out["time/total"] = self._total_time
        return out

    def get_span_dicts(self) -> list[dict[str, Any]]:
        """JSON-ready spans, wall times relative to the earliest span."""
        spans = self._snapshot()
        if not spans:
            return []
        t0 = min(s.wall_start for s in spans)
        return [
            {
                "name": s.name,
                "duration": s.end_time - s.start_time,
                "wall_start": s.wall_start - t0,
                "wall_end": s.wall_end - t0,
            }
            for s in spans
        ]

    def get_span_records(self) -> list[dict[str, Any]]:
        """``{"task", "start", "end"}`` rows (datetimes from 2000-01-01, relative) for timeline plots."""
        import datetime as dt

        base = dt.datetime(2000, 1, 1)
        return [
            {
                "task": d["name"],
                "start": base + dt.timedelta(seconds=d["wall_start"]),
                "end": base + dt.timedelta(seconds=d["wall_end"]),
            }
            for d in self.get_span_dicts()
        ]

    def write_spans_jsonl(self, path: Path | str, step: int) -> None:
        """Append ``{"step": step, "spans": [...]}`` as one line (nothing when there are no spans)."""
        spans = self.get_span_dicts()
        if spans:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, "spans": spans}) + "\n")

    def save_timing(self, step: int, *, store: Any | None) -> None:
        """Hand the spans to a run store (anything with ``write_timing_spans(step, spans)``)."""
        if store is not None:
            store.write_timing_spans(step, self.get_span_dicts())


_iteration_window: ContextVar[IterationWindow | None] = ContextVar("_iteration_window", default=None)


class TraceCollector:
    """Buffers events and appends them to ``output_file`` (JSONL) from a daemon thread every interval."""

    def __init__(self, flush_interval_sec: float = 1.0, output_file: str = "trace_events.jsonl") -> None:
        self.flush_interval_sec = flush_interval_sec
        self.output_file = output_file
        self._events: list[TraceEvent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fake_pids: dict[int, int] = {}  # Perfetto groups small pids better than thread idents
        self._metadata_seen: set[tuple[int, int]] = set()
        self._thread = threading.Thread(target=self._worker, name="tinkerlite-trace", daemon=True)
        self._thread.start()

    def add_event(self, event: TraceEvent) -> None:
        with self._lock:
            self._events.append(event)

    def get_timestamp(self) -> float:
        return time.perf_counter() * 1e6

    def get_all_events_immediately_available(self) -> list[TraceEvent]:
        """Take every buffered event (the flusher writes what this returns)."""
        with self._lock:
            events, self._events = self._events, []
        return events

    def flush(self) -> None:
        events = self.get_all_events_immediately_available()
        lines = []
        for e in events:
            e.pid = self._fake_pids.setdefault(e.pid, len(self._fake_pids))
            if e.ph is EventType.METADATA:
                if (e.pid, e.tid) in self._metadata_seen:
                    continue
                self._metadata_seen.add((e.pid, e.tid))
            lines.append(json.dumps(e.to_dict()) + "\n")
        if lines:
            with open(self.output_file, "a", encoding="utf-8") as f:  # append: resumed runs keep history
                f.writelines(lines)

    def _worker(self) -> None:
        while not self._stop.wait(self.flush_interval_sec):
            self.flush()

    def shutdown(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.flush()


_trace_collector: TraceCollector | None = None


def trace_init(flush_interval_sec: float = 1.0, output_file: str = "trace_events.jsonl") -> None:
    """Start writing Chrome-trace events to ``output_file`` and time the clients' request methods."""
    global _trace_collector
    if _trace_collector is not None:
        _trace_collector.shutdown()
    _trace_collector = TraceCollector(flush_interval_sec, output_file)
    _instrument_clients()


def trace_shutdown() -> None:
    """Flush and stop the collector (also run at interpreter exit)."""
    global _trace_collector
    if _trace_collector is not None:
        _trace_collector.shutdown()
        _trace_collector = None


atexit.register(trace_shutdown)

_COMPLETION_METHODS = {"sample", "compute_logprobs", "save_weights_and_get_sampling_client", "create_sampling_client"}
_CLIENT_METHODS = {
    "TrainingClient": [
        "forward",
        "forward_backward",
        "forward_backward_custom",
        "get_info",
        "optim_step",
        "save_state",
        "save_weights_for_sampler",
        "save_weights_external",
        "save_weights_and_get_sampling_client",
        "create_sampling_client",
    ],
    "SamplingClient": ["sample", "compute_logprobs", "get_base_model"],
}


def _instrument_clients() -> None:
    from ..client.sampling_client import SamplingClient
    from ..client.training_client import TrainingClient

    for cls in (TrainingClient, SamplingClient):
        for name in _CLIENT_METHODS[cls.__name__]:
            original = getattr(cls, name, None)
            if original is None or getattr(original, "_scope_instrumented", False):
                continue
            wrapped = _future_scope(original) if name in _COMPLETION_METHODS else scope(original)
            wrapped._scope_instrumented = True
            setattr(cls, name, wrapped)


@dataclass
class FunctionCallContext:
    """What an open span needs at its end: its attributes, its track (coroutine) and thread."""

    scope_context: ScopeContext
    coroutine_name: str
    thread_name: str
    category: str
    thread_id: int
    track_id: int | None = None


@dataclass
class CreateTraceEventsResult:
    """A span's begin event, the two metadata events that name its track and thread, and its context."""

    begin_event: TraceEvent
    metadata_coroutine_event: TraceEvent
    metadata_thread_event: TraceEvent
    function_call_context: FunctionCallContext


def _create_trace_events(
    name: str, collector: TraceCollector, track_suffix: int | None = None
) -> CreateTraceEventsResult:
    thread = threading.current_thread()
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    track = task.get_name() if task is not None else f"sync:{thread.name}"
    tid = hash(track) % 1_000_000
    if track_suffix is not None:
        track, tid = f"{track}:{name}:{track_suffix}", track_suffix
    pid = thread.ident or 0
    return CreateTraceEventsResult(
        TraceEvent(
            name, EventType.BEGIN, pid, tid, collector.get_timestamp(), {"track": track, "thread": thread.name}, "async"
        ),
        TraceEvent("thread_name", EventType.METADATA, pid, tid, 0, {"name": track}),
        TraceEvent("process_name", EventType.METADATA, pid, 0, 0, {"name": f"{thread.name} Thread"}),
        FunctionCallContext(ScopeContext(), track, thread.name, "async", pid, tid),
    )


def _begin(name: str, collector: TraceCollector, track_suffix: int | None = None) -> FunctionCallContext:
    events = _create_trace_events(name, collector, track_suffix)
    for e in (events.begin_event, events.metadata_coroutine_event, events.metadata_thread_event):
        collector.add_event(e)
    return events.function_call_context


def _end(name: str, ctx: FunctionCallContext, collector: TraceCollector) -> None:
    args = {"track": ctx.coroutine_name, "thread": ctx.thread_name, **ctx.scope_context.attributes}
    tid = ctx.track_id if ctx.track_id is not None else hash(ctx.coroutine_name) % 1_000_000
    collector.add_event(
        TraceEvent(name, EventType.END, ctx.thread_id, tid, collector.get_timestamp(), args, ctx.category)
    )


@contextlib.contextmanager
def scope_span_sync(name: str) -> Iterator[None]:
    """Time a block (trace event and/or iteration span, whichever is active)."""
    collector, window = _trace_collector, _iteration_window.get()
    if collector is None and window is None:
        yield
        return
    t0 = time.perf_counter()
    span = _begin(name, collector) if collector is not None else None
    token = trace_context.set(span.scope_context) if span is not None else None
    try:
        yield
    finally:
        if token is not None:
            trace_context.reset(token)
        if span is not None and collector is not None:
            _end(name, span, collector)
        if window is not None:
            window.record_span(name, t0, time.perf_counter())


@contextlib.asynccontextmanager
async def scope_span(name: str) -> AsyncIterator[None]:
    """Async form of :func:`scope_span_sync`."""
    with scope_span_sync(name):
        yield


def scope(func: F) -> F:
    """Decorator: every call (sync or async) becomes a span named after the function."""
    name = func.__name__
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            with scope_span_sync(name):
                return await func(*args, **kwargs)

        return cast(F, awrapper)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with scope_span_sync(name):
            return func(*args, **kwargs)

    return cast(F, wrapper)


def _future_scope(func: F) -> F:
    """Like :func:`scope`, but the span ends when the returned future completes."""
    name = func.__name__

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        collector, window = _trace_collector, _iteration_window.get()
        if collector is None and window is None:
            return func(*args, **kwargs)
        t0 = time.perf_counter()
        span = _begin(name, collector, next(_future_track_ids)) if collector is not None else None

        def finish(_: Any = None) -> None:
            if span is not None and collector is not None:
                _end(name, span, collector)
            if window is not None:
                window.record_span(name, t0, time.perf_counter())

        token = trace_context.set(span.scope_context) if span is not None else None
        try:
            fut = func(*args, **kwargs)
        except BaseException:
            finish()
            raise
        finally:
            if token is not None:
                trace_context.reset(token)
        inner = getattr(fut, "future", None)
        if callable(inner):
            inner().add_done_callback(finish)
        else:
            finish()
        return fut

    return cast(F, wrapper)


def get_scope_context() -> ScopeContext:
    """The innermost traced span's context (a throwaway one outside any span)."""
    return trace_context.get() or ScopeContext()


def update_scope_context(values: dict[str, Any]) -> None:
    """Attach ``values`` to the innermost traced span."""
    get_scope_context().attributes.update(values)


@contextlib.contextmanager
def trace_iteration(step: int) -> Iterator[IterationWindow]:
    """Collect every span of one training step into an :class:`IterationWindow` (total time included)."""
    window = IterationWindow()
    token = _iteration_window.set(window)
    t0 = time.perf_counter()
    try:
        with scope_span_sync(f"iteration_{step}") if _trace_collector is not None else contextlib.nullcontext():
            yield window
    finally:
        window._total_time = time.perf_counter() - t0
        _iteration_window.reset(token)


def save_gantt_chart_html(window: IterationWindow, step: int, path: Path | str) -> None:
    """One row per span name, bars at their wall-clock offsets (self-contained HTML + SVG)."""
    spans = window.get_span_dicts()
    if not spans:
        return
    names = list(dict.fromkeys(s["name"] for s in spans))
    end = max(s["wall_end"] for s in spans) or 1.0
    row_h, left, width = 22, 220, 900
    bars = []
    for s in spans:
        y = names.index(s["name"]) * row_h
        x = left + s["wall_start"] / end * width
        w = max(1.0, (s["wall_end"] - s["wall_start"]) / end * width)
        bars.append(
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="#4c78a8">'
            f"<title>{html.escape(s['name'])}: {s['duration']:.3f}s</title></rect>"
        )
    labels = [f'<text x="4" y="{i * row_h + 15}" font-size="12">{html.escape(n)}</text>' for i, n in enumerate(names)]
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{len(names) * row_h + 30}">'
        + "".join(labels + bars)
        + f'<text x="{left}" y="{len(names) * row_h + 20}" font-size="11">0 s</text>'
        + f'<text x="{left + width - 40}" y="{len(names) * row_h + 20}" font-size="11">{end:.2f} s</text></svg>'
    )
    title = f"Step {step} timeline"
    head = f"<head><meta charset='UTF-8'><title>{title}</title></head>"
    doc = f"<!DOCTYPE html><html>{head}<body><h2>{title}</h2>{svg}</body></html>"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(doc, encoding="utf-8")


def convert_jsonl_to_json_main() -> None:
    """CLI: ``trace_events.jsonl`` -> a Chrome-trace JSON array (open in Perfetto or chrome://tracing)."""
    ap = argparse.ArgumentParser(description=convert_jsonl_to_json_main.__doc__)
    ap.add_argument("trace_events_jsonl_file")
    ap.add_argument("output_json_file")
    a = ap.parse_args()
    with open(a.trace_events_jsonl_file, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    with open(a.output_json_file, "w", encoding="utf-8") as f:
        json.dump(events, f)
    print(f"wrote {len(events)} events to {a.output_json_file}")


if __name__ == "__main__":
    convert_jsonl_to_json_main()
