"""``tinkerlite plot LOG_DIR [metric ...]``: an SVG of a run's metrics, drawn with the standard library.

One panel per metric: a legend line above the plot area (so no label sits on the curve), "nice" tick
values on both axes with a light grid, and the step axis labelled. Every training command writes
``LOG_DIR/metrics.svg`` at the end of a run; this command redraws it, or draws chosen metrics.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from .utils.files import atomic_write_bytes, read_jsonl

__all__ = ["DEFAULT_KEYS", "main", "metric_names", "nice_ticks", "plot_run", "render_svg", "report_files"]

DEFAULT_KEYS = ("train_mean_nll", "test/nll", "env/all/reward/total", "dpo_loss", "teacher_kl", "learning_rate")
_W, _H = 560, 230  # panel size
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 34, 36  # plot-area margins inside a panel
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _series(rows: list[dict[str, object]], key: str) -> list[tuple[float, float]]:
    pts = []
    for r in rows:
        v, s = r.get(key), r.get("step")
        if isinstance(v, (int, float)) and isinstance(s, (int, float)) and math.isfinite(v):
            pts.append((float(s), float(v)))
    return pts


def metric_names(rows: list[dict[str, object]]) -> list[str]:
    """Keys with at least one finite number at a step: what can be plotted."""
    names: dict[str, None] = {}
    for r in rows:
        if not isinstance(r.get("step"), (int, float)):
            continue
        for k, v in r.items():
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                names.setdefault(k, None)
    return list(names)


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering ``[lo, hi]``."""
    if not hi > lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(target - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _panel(key: str, pts: list[tuple[float, float]], y0: int, color: str) -> list[str]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xt, yt = nice_ticks(min(xs), max(xs)), nice_ticks(min(ys), max(ys))
    xmin, xmax, ymin, ymax = xt[0], xt[-1], yt[0], yt[-1]
    left, right, top, bottom = _LEFT, _W - _RIGHT, y0 + _TOP, y0 + _H - _BOTTOM

    def sx(x: float) -> float:
        return left + (x - xmin) / (xmax - xmin) * (right - left)

    def sy(y: float) -> float:
        return bottom - (y - ymin) / (ymax - ymin) * (bottom - top)

    out = [
        f'<line x1="{left + 4}" y1="{y0 + 16}" x2="{left + 28}" y2="{y0 + 16}" stroke="{color}" stroke-width="2.5"/>',
        f'<text x="{left + 34}" y="{y0 + 20}" font-size="13">{escape(key)}</text>',
    ]
    for t in yt:
        y = sy(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{left - 6}" y="{y + 3.5:.1f}" font-size="10" text-anchor="end">{_fmt(t)}</text>')
    for t in xt:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">{_fmt(t)}</text>')
    out += [
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#999"/>',
        f'<text x="{(left + right) / 2:.1f}" y="{bottom + 28}" font-size="11" text-anchor="middle">step</text>',
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(pts))
    out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
    if len(pts) == 1:
        out.append(f'<circle cx="{sx(xs[0]):.1f}" cy="{sy(ys[0]):.1f}" r="3" fill="{color}"/>')
    return out


def render_svg(rows: list[dict[str, object]], keys: Sequence[str] = DEFAULT_KEYS) -> str:
    panels = [(k, _series(rows, k)) for k in keys]
    panels = [(k, p) for k, p in panels if p]
    height = max(len(panels), 1) * _H + 10
    body: list[str] = []
    for i, (k, pts) in enumerate(panels):
        body += _panel(k, pts, i * _H, _COLORS[i % len(_COLORS)])
    if not panels:
        body.append('<text x="20" y="40">no numeric metrics with a step</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>{"".join(body)}</svg>\n'
    )


def plot_run(log_dir: str | Path, keys: Sequence[str] = DEFAULT_KEYS, out: str | Path | None = None) -> Path:
    """Write ``LOG_DIR/metrics.svg`` (or ``out``) from ``LOG_DIR/metrics.jsonl``; returns its path."""
    rows = read_jsonl(Path(log_dir) / "metrics.jsonl")
    target = Path(out) if out else Path(log_dir) / "metrics.svg"
    atomic_write_bytes(target, render_svg(rows, keys).encode("utf-8"))
    return target


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    usage = "usage: tinkerlite plot LOG_DIR [metric ...]"
    if args and args[0] in ("-h", "--help"):
        print(f"{usage}\nwrites LOG_DIR/metrics.svg (default: the loss curves)")
        return 0
    if not args:
        print(f"tinkerlite plot: which run? pass its log_path ({usage})", file=sys.stderr)
        return 2
    log_dir = Path(args[0])
    metrics = log_dir / "metrics.jsonl"
    if not metrics.is_file():
        print(f"tinkerlite plot: {metrics} not found; pass a run's log_path", file=sys.stderr)
        return 2
    try:
        rows = read_jsonl(metrics)
    except (OSError, ValueError) as e:
        print(f"tinkerlite plot: cannot read {metrics}: {e}", file=sys.stderr)
        return 2
    known = metric_names(rows)
    unknown = [k for k in args[1:] if k not in known]
    if unknown:
        print(
            f"tinkerlite plot: no metric {', '.join(map(repr, unknown))} in {metrics}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    print(plot_run(log_dir, args[1:] or DEFAULT_KEYS))
    return 0


def report_files(log_path: str | Path) -> str:
    """``metrics: ...`` and ``plot: ...`` lines for a finished run; the SVG is (re)drawn here.

    The plot is a convenience: a failure to draw it is reported on the line, never raised.
    """
    metrics = Path(log_path) / "metrics.jsonl"
    try:
        return f"metrics: {metrics}\nplot:    {plot_run(log_path)}"
    except (OSError, ValueError) as e:
        return f"metrics: {metrics} (plot failed: {e})"
