"""``tinkerlite plot LOG_DIR``: an SVG of a run's metrics, drawn with the standard library."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from .utils.files import atomic_write_bytes, read_jsonl

__all__ = ["DEFAULT_KEYS", "main", "plot_run", "render_svg"]

DEFAULT_KEYS = ("train_mean_nll", "test/nll", "env/all/reward/total", "dpo_loss", "teacher_kl", "learning_rate")
_W, _H, _PAD = 520, 220, 44
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def _series(rows: list[dict[str, object]], key: str) -> list[tuple[float, float]]:
    pts = []
    for r in rows:
        v, s = r.get(key), r.get("step")
        if isinstance(v, (int, float)) and isinstance(s, (int, float)) and math.isfinite(v):
            pts.append((float(s), float(v)))
    return pts


def _panel(key: str, pts: list[tuple[float, float]], y0: int, color: str) -> list[str]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xmin, xmax = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    ymin, ymax = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1

    def sx(x: float) -> float:
        return _PAD + (x - xmin) / (xmax - xmin) * (_W - 2 * _PAD)

    def sy(y: float) -> float:
        return y0 + _H - _PAD / 2 - (y - ymin) / (ymax - ymin) * (_H - _PAD)

    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(pts))
    out = [
        f'<text x="{_PAD}" y="{y0 + 16}" font-size="13" font-weight="bold">{escape(key)}</text>',
        f'<line x1="{_PAD}" y1="{y0 + _H - _PAD / 2}" x2="{_W - _PAD}" y2="{y0 + _H - _PAD / 2}" stroke="#999"/>',
        f'<text x="4" y="{sy(ymax) + 4:.1f}" font-size="10">{ymax:.4g}</text>',
        f'<text x="4" y="{sy(ymin) + 4:.1f}" font-size="10">{ymin:.4g}</text>',
        f'<text x="{_W - _PAD}" y="{y0 + _H - 6}" font-size="10" text-anchor="end">step {xmax:g}</text>',
        f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>',
    ]
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
    rows = read_jsonl(Path(log_dir) / "metrics.jsonl")
    target = Path(out) if out else Path(log_dir) / "metrics.svg"
    atomic_write_bytes(target, render_svg(rows, keys).encode("utf-8"))
    return target


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: tinkerlite plot LOG_DIR [metric ...]\nwrites LOG_DIR/metrics.svg")
        return 0 if args else 2
    log_dir = Path(args[0])
    if not (log_dir / "metrics.jsonl").exists():
        print(f"tinkerlite plot: {log_dir / 'metrics.jsonl'} not found", file=sys.stderr)
        return 2
    print(plot_run(log_dir, args[1:] or DEFAULT_KEYS))
    return 0
