"""The metrics SVG: round ticks on both axes, a grid, a legend above the plot area (never on the curve)."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest

from tinkerlite.plotting import metric_names, nice_ticks, render_svg

NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("lo", "hi"), [(0, 149), (0.31, 6.19), (1e-5, 3e-3), (-2.5, 7.25), (5, 5), (0, 0)])
def test_nice_ticks_cover_the_range_with_round_steps(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 8 and ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 12) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5, 10))


def test_svg_has_ticks_grid_and_a_legend_clear_of_the_curve() -> None:
    rows = [{"step": s, "train_mean_nll": 6.2 * 0.97**s, "test/nll": 6.0 * 0.98**s} for s in range(40)]
    root = ET.fromstring(render_svg(rows, ["train_mean_nll", "test/nll"]))
    texts = [(e.text, float(e.attrib["y"])) for e in root.iter(f"{NS}text")]
    assert [t for t, _ in texts].count("step") == 2 and ("train_mean_nll" in [t for t, _ in texts])
    assert {"0", "10", "20", "30", "40"} <= {t for t, _ in texts}
    grid = [e for e in root.iter(f"{NS}line") if e.attrib.get("stroke") == "#e3e3e3"]
    assert len(grid) >= 16
    frames = [e for e in root.iter(f"{NS}rect") if e.attrib.get("fill") == "none"]
    for frame, name in zip(frames, ["train_mean_nll", "test/nll"], strict=True):
        legend_y = next(y for t, y in texts if t == name)
        assert legend_y < float(frame.attrib["y"])  # above the plot area, so never over the curve
    for path in root.iter(f"{NS}path"):
        ys = [float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", path.attrib["d"])]
        assert len(ys) == 40


def test_metric_names_are_the_numeric_keys_with_a_step() -> None:
    rows = [
        {"step": 0, "loss": 1.0, "name": "x", "ok": True},
        {"loss": 2.0, "other": 1.0},
        {"step": 1, "nan": math.nan},
    ]
    assert metric_names(rows) == ["loss"]
