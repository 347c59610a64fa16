"""``tinkerlite view --export DIR``: the page plus every API answer it would ask for, written to disk.

The copy opens from ``file://`` with no server: ``snapshot.js`` sets ``window.TL_SNAPSHOT`` to a map from
API path to answer, and the page reads that map instead of fetching. Sampling needs a live service, so the
playground is disabled in a snapshot (it says so).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .examples import render_examples
from .runs import read_checkpoints, read_config, read_metrics, read_rollouts, run_summary
from .server import STATIC_FILES, RunRegistry, static_bytes, to_json_bytes

__all__ = ["export_snapshot"]

_SNAPSHOT_TAG = '<script src="snapshot.js"></script>\n'


def export_snapshot(roots: Sequence[str], out_dir: str, max_points: int = 2000) -> list[str]:
    """Write ``index.html``, ``static/*`` and ``snapshot.js`` for the runs under ``roots``; return the files."""
    registry = RunRegistry(roots, max_points)
    answers: dict[str, object] = {}
    runs = []
    for i, path in enumerate(registry.refresh()):
        runs.append({"id": i, **run_summary(path)})
        config = read_config(path)
        base = f"/api/runs/{i}"
        answers[f"{base}/metrics"] = read_metrics(path, max_points=max_points).to_json()
        answers[f"{base}/checkpoints"] = {
            "checkpoints": read_checkpoints(path),
            "endpoint": "none: this is a static snapshot (run `tinkerlite view` to sample)",
        }
        answers[f"{base}/config"] = {"config": config}
        try:
            answers[f"{base}/data"] = render_examples(config)
        except Exception as e:  # a data file that no longer renders: the rest of the snapshot still helps
            answers[f"{base}/data"] = {"available": False, "reason": f"{type(e).__name__}: {e}", "examples": []}
        answers[f"{base}/rollouts"] = read_rollouts(path)
    answers["/api/runs"] = {"runs": runs}
    os.makedirs(os.path.join(out_dir, "static"), exist_ok=True)
    written = []
    for name in STATIC_FILES:
        data = static_bytes(name)
        if name == "index.html":
            html = data.decode("utf-8")
            html = html.replace('<script src="static/chart.js">', _SNAPSHOT_TAG + '<script src="static/chart.js">', 1)
            target = os.path.join(out_dir, "index.html")
            data = html.encode("utf-8")
        else:
            target = os.path.join(out_dir, "static", name)
        with open(target, "wb") as f:
            f.write(data)
        written.append(target)
    target = os.path.join(out_dir, "snapshot.js")
    with open(target, "wb") as f:
        # JSON in a script: "</" is escaped so no string inside can close the tag.
        f.write(b"window.TL_SNAPSHOT = " + to_json_bytes(answers).replace(b"</", b"<\\/") + b";\n")
    written.append(target)
    return written
