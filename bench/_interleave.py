"""Interleaved timing for the benches: contenders run A B A B ... in one invocation, medians reported.

On a shared machine the load drifts over minutes; timing one contender after the other lets the drift land
on one of them. Here every round runs every contender once, in a fixed order, and the figures are medians
of wall and CPU time (``time.process_time``: the steadier one under load). An official contender runs in a
long-lived subprocess of its own venv (:class:`Worker`), driven one timed call at a time over a pipe, so
it interleaves with the in-process ones too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["WORKER_LOOP", "Worker", "interleave", "median_pair", "ratio_line", "serve", "timed"]

Timing = tuple[float, float]  # (wall s, CPU s)

# Appended to an official worker's script, which then ends with ``_serve(FNS, info)``.
WORKER_LOOP = r"""
import json as _json, sys as _sys, time as _time

def _serve(fns, info=None):
    print(_json.dumps({"ready": sorted(fns), "info": info or {}}), flush=True)
    for line in _sys.stdin:
        name = line.strip()
        if not name:
            break
        w0, c0 = _time.perf_counter(), _time.process_time()
        fns[name]()
        print(_json.dumps([_time.perf_counter() - w0, _time.process_time() - c0]), flush=True)
"""


def serve(fns: Mapping[str, Callable[[], object]], info: Mapping[str, Any] | None = None) -> None:
    """The worker side of :class:`Worker` for a program that imports this module (same protocol as
    :data:`WORKER_LOOP`): announce the names, then time one call per line read from stdin."""
    import sys

    print(json.dumps({"ready": sorted(fns), "info": dict(info or {})}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        w0, c0 = time.perf_counter(), time.process_time()
        fns[name]()
        print(json.dumps([time.perf_counter() - w0, time.process_time() - c0]), flush=True)


class Worker:
    """A subprocess serving timed calls of named functions (see :data:`WORKER_LOOP`)."""

    def __init__(
        self,
        python: Path | str,
        script: str | None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = "/",
    ) -> None:
        """``python -c WORKER_LOOP+script args``, or with ``script=None`` ``python args`` (a program that calls
        :func:`serve` itself)."""
        if env is None:  # the official venv must not see this checkout on its path
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        argv = [str(python), "-c", WORKER_LOOP + "\n" + script, *args] if script is not None else [str(python), *args]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env),
            cwd=cwd,
        )
        self.info: dict[str, Any] = {}
        self.names: list[str] = []
        while True:
            line = self._line()
            obj = _maybe_json(line)
            if isinstance(obj, dict) and "ready" in obj:
                self.names, self.info = obj["ready"], obj["info"]
                return

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"official worker exited with {self.proc.wait()}")
        return line

    def timed(self, name: str) -> Timing:
        assert self.proc.stdin is not None
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        while True:
            obj = _maybe_json(self._line())
            if isinstance(obj, list):
                return float(obj[0]), float(obj[1])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _maybe_json(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def timed(fn: Callable[[], object]) -> Timing:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def interleave(contenders: Mapping[str, Callable[[], Timing]], rounds: int, warmup: int = 1) -> dict[str, list[Timing]]:
    """Run every contender once per round, in order, ``warmup`` untimed rounds first."""
    out: dict[str, list[Timing]] = {name: [] for name in contenders}
    for r in range(warmup + rounds):
        for name, run in contenders.items():
            t = run()
            if r >= warmup:
                out[name].append(t)
    return out


def median_pair(samples: Sequence[Timing]) -> Timing:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def ratio_line(label: str, ours: Sequence[Timing], theirs: Sequence[Timing]) -> str:
    """``label: ours ÷ theirs`` for wall and CPU medians (below 1 is faster)."""
    (ow, oc), (tw, tc) = median_pair(ours), median_pair(theirs)
    return f"{label}: {oc / tc:.2f} CPU, {ow / tw:.2f} wall ({oc * 1e3:.1f} vs {tc * 1e3:.1f} ms CPU)"
