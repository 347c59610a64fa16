"""Record the wire trace of ``sdk_flow.py`` against the recording server, for either SDK.

Regenerate the committed official fixture (needs network access to PyPI once, for the venv):

    python -m tests.client.official_trace --regenerate

The trace is the sequence of (method, path, body) with ids/timestamps removed and polls, heartbeats
and telemetry dropped (their number depends on timing, not on the protocol).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .recording_server import Recorded, RecordingServer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURE = HERE / "fixtures" / "official_trace_0.38.0.json"
TIMING_PATHS = {
    "/api/v1/retrieve_future",
    "/api/v1/session_heartbeat",
    "/api/v1/telemetry",
    "/api/v1/client/dynamic_config",
}
DROP_KEYS = {"request_id"}
SERVER_CONFIG = {"fwdbwd_max_chunk_len": 2}
COMPARED_HEADERS = ("content-type", "accept", "content-encoding", "x-tinker-sampling-backpressure", "x-sdk-method")


def _scrub(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _scrub(v) for k, v in sorted(obj.items()) if k not in DROP_KEYS}
    if isinstance(obj, list):
        return [_scrub(v) for v in obj]
    if isinstance(obj, float):
        return round(obj, 6)
    return obj


def _proto_body(msg: Any) -> dict[str, Any]:
    return {
        "model_id": msg.model_id,
        "seq_id": msg.seq_id,
        "loss_fn": msg.loss_fn,
        "loss_fn_config": dict(msg.loss_fn_config),
        "forward_only": msg.forward_only,
        "data": [
            {
                "model_input": d.model_input.to_json(),
                "loss_fn_inputs": {
                    k: {"dtype": v.dtype, "shape": list(v.resolved_shape), "data": list(v.tolist())}
                    for k, v in sorted(d.loss_fn_inputs.items())
                },
            }
            for d in msg.data
        ],
    }


def _headers(r: Recorded) -> dict[str, Any]:
    h: dict[str, Any] = {k: r.headers[k] for k in COMPARED_HEADERS if k in r.headers}
    h["idempotency_key"] = "x-idempotency-key" in r.headers
    h["api_key"] = r.headers.get("x-api-key") == "tml-test-key-0123456789"
    return h


def normalize(records: list[Recorded]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    polls = sorted(
        {
            (r.headers.get("x-tinker-request-type", ""), r.headers.get("accept", ""), r.json.get("allow_metadata_only"))
            for r in records
            if r.path == "/api/v1/retrieve_future"
        }
    )
    out.append({"poll_kinds": [list(p) for p in polls]})
    for r in records:
        if r.path in TIMING_PATHS and r.path != "/api/v1/client/dynamic_config":
            continue
        if r.path == "/api/v1/client/dynamic_config" and any(o.get("path") == r.path for o in out):
            continue  # periodic refreshes are timing
        body: Any = _proto_body(r.proto) if r.proto is not None else r.json
        out.append({"method": r.method, "path": r.path, "query": r.query, "headers": _headers(r), "body": _scrub(body)})
    return out


def run_flow(
    python: str, sdk: str, extra_path: str | None = None, *, strict_order: bool = True
) -> list[dict[str, Any]]:
    """The normalized trace. ``strict_order``: tinkerlite posts ordered submissions one response at a
    time, as the official SDK does (by default it overlaps them, so arrival order may vary)."""
    env = {**os.environ, "TINKER_TELEMETRY": "0"}
    if strict_order:
        env["TINKERLITE_STRICT_SUBMIT_ORDER"] = "1"
    else:
        env.pop("TINKERLITE_STRICT_SUBMIT_ORDER", None)
    env.pop("TINKER_BASE_URL", None)
    env.pop("TINKER_API_KEY", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (extra_path, str(REPO)) if p)
    with RecordingServer(client_config=SERVER_CONFIG) as srv:
        proc = subprocess.run(
            [python, str(HERE / "sdk_flow.py"), sdk, srv.url], env=env, capture_output=True, text=True, timeout=300
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{sdk} flow failed:\n{proc.stdout}\n{proc.stderr}")
        return normalize(srv.records)


def official_python() -> str:
    sys.path.insert(0, str(REPO))
    from tests.official_env import official_sdk_python

    return str(official_sdk_python("0.38.0"))


def main() -> None:
    if "--regenerate" in sys.argv:
        trace = run_flow(official_python(), "tinker")
        FIXTURE.parent.mkdir(exist_ok=True)
        FIXTURE.write_text(json.dumps(trace, indent=1) + "\n")
        print(f"wrote {FIXTURE} ({len(trace)} requests)")
    else:
        print(json.dumps(run_flow(sys.executable, "tinkerlite"), indent=1))


if __name__ == "__main__":
    main()
