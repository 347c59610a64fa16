"""The default pipeline depth is 4 (the cookbook's is 1): more steps in flight, for speed at 100 ms round
trips, and nothing else. The cookbook's depth 1, depth 4 and no pipelining at all must give the same steps,
the same metrics (training NLL, learning rate, evaluations) and the same checkpoints (records and weights).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from tinkerlite.supervised.cli import OPTIONS
from tinkerlite.supervised.train import Config, run

from .helpers import checkpoint_arrays, read_jsonl, small_config

EPOCHS = 2


def test_the_default_depth_is_four_in_the_config_and_the_cli() -> None:
    assert inspect.signature(Config).parameters["submit_ahead"].default == 4
    assert next(o for o in OPTIONS if o.name == "submit_ahead").default == 4


def _observed(log: Path, state_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, bytes]]]:
    rows = [{k: v for k, v in r.items() if not k.startswith("time/")} for r in read_jsonl(log / "metrics.jsonl")]
    records = read_jsonl(log / "checkpoints.jsonl")
    weights = [checkpoint_arrays(state_dir, r["state_path"]) for r in records]
    positions = [{k: v for k, v in r.items() if not k.endswith("_path")} for r in records]
    return rows, positions, weights


def test_every_depth_gives_the_same_steps_metrics_and_checkpoints(
    server: tuple[str, Path], data: Path, tmp_path: Path
) -> None:
    url, state_dir = server
    seen = {}
    for name, depth in (("default", {}), ("cookbook", {"submit_ahead": 1}), ("unpipelined", {"submit_ahead": 0})):
        log = tmp_path / name
        cfg = small_config(log, data, url, num_epochs=EPOCHS, save_every=3, eval_every=4, **depth)
        assert cfg.submit_ahead == depth.get("submit_ahead", 4)
        run(cfg)
        seen[name] = _observed(log, state_dir)
    rows, positions, weights = seen["default"]
    assert sum("train_mean_nll" in r for r in rows) == EPOCHS * 8 and any("test/nll" in r for r in rows)
    assert [p["step"] for p in positions] == [3, 6, 9, 12, 15, 16], positions
    assert weights[0] != weights[1]  # the comparison below can tell checkpoints apart
    for other in ("cookbook", "unpipelined"):
        o_rows, o_positions, o_weights = seen[other]
        assert o_rows == rows, f"{other}: metrics differ from the default depth's"
        assert o_positions == positions, f"{other}: checkpoint records differ"
        assert o_weights == weights, f"{other}: checkpoint weights differ"
