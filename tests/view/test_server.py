"""The viewer's HTTP layer and CLI: traversal refused, loopback only by default, bad files never crash it."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.view import cli
from tinkerlite.view.server import STATIC_FILES, make_server

ROOT = Path(__file__).resolve().parents[2]


def _get(
    srv: Any, path: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)  # the path goes out byte for byte
    hdrs = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if body is not None:
        hdrs["Content-Length"] = str(len(body))
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/static/../../etc/passwd",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/%252e%252e%252fetc%252fpasswd",
        "/static/..\\..\\etc\\passwd",
        "//etc/passwd",
        "/static//etc/passwd",
        "/api/runs/0/../../../etc/passwd",
        "/api/runs/..%2f..%2fetc/metrics",
        "/api/runs/-1/metrics",
        "/api/runs/99/config",
        "/static/app.js%00.html",
    ],
)
def test_path_traversal_is_refused(view_runs: dict[str, Path], serve_view: Any, path: str) -> None:
    srv = serve_view([str(view_runs["root"])])
    status, body = _get(srv, path)
    assert status == 404, (path, status)
    assert b"root:" not in body and b"tinkerlite" not in body.lower().replace(b"no such page", b"")


def test_static_files_and_index(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["sl"])])
    status, body = _get(srv, "/")
    assert status == 200 and b"<title>tinkerlite view</title>" in body
    for name in STATIC_FILES:
        status, body = _get(srv, f"/static/{name}")
        assert status == 200 and len(body) > 100, name
    assert b"http://" not in _get(srv, "/")[1] and b"https://" not in _get(srv, "/")[1]  # no CDN


def test_loopback_only_by_default(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["sl"])])
    assert srv.server_address[0] == "127.0.0.1" and srv.loopback_only
    assert cli.build_parser().parse_args([]).host == "127.0.0.1"
    status, body = _get(srv, "/api/runs", headers={"Host": "attacker.example:80"})  # DNS rebinding
    assert status == 403 and b"loopback" in body
    status, _ = _get(srv, "/api/runs", headers={"Host": f"localhost:{srv.server_address[1]}"})
    assert status == 200


def test_runs_api_and_metrics_poll(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["root"])])
    runs = json.loads(_get(srv, "/api/runs")[1])["runs"]
    by_name = {r["name"]: r for r in runs}
    assert by_name["sl"]["status"] == "finished" and by_name["cookbook_rl"]["status"] == "crashed"
    rid = by_name["sl"]["id"]
    m = json.loads(_get(srv, f"/api/runs/{rid}/metrics")[1])
    assert m["rows"] == 7 and len(m["series"]["train_mean_nll"]) == 6 and "test/nll" in m["series"]
    again = json.loads(_get(srv, f"/api/runs/{rid}/metrics?since={m['offset']}&wall={m['wall']}")[1])
    assert again["rows"] == 0 and again["offset"] == m["offset"]
    assert json.loads(_get(srv, f"/api/runs/{rid}/metrics")[1]) == m  # the cached read answers the same


def test_bad_files_never_crash_the_server(tmp_path: Path, serve_view: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_bytes(
        b'{"step": 0, "loss": 1}\n\xff\xfe garbage\n{"step": 1, "loss": 0.5}\n{"step": 2, "lo'
    )
    (run / "config.json").write_text('{"model_name": ')  # truncated
    srv = serve_view([str(tmp_path)])
    m = json.loads(_get(srv, "/api/runs/0/metrics")[1])
    assert m["rows"] == 2 and m["bad_lines"] == 1
    for what in ("config", "checkpoints", "rollouts", "data", "transcripts?iteration=x&min=nan"):
        status, body = _get(srv, f"/api/runs/0/{what}")
        assert status == 200, (what, body)
    (run / "metrics.jsonl").unlink()  # deleted while served
    assert json.loads(_get(srv, "/api/runs/0/metrics?since=10")[1])["rows"] == 0
    import tinkerlite.view.server as server_mod

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(server_mod, "read_rollouts", boom)
    status, body = _get(srv, "/api/runs/0/rollouts")
    assert status == 500 and json.loads(body) == {"error": "RuntimeError: disk on fire"}
    assert _get(srv, "/api/runs")[0] == 200  # still serving


def test_sample_route_validates_before_sampling(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["sl"])])
    status, body = _get(srv, "/api/runs/0/sample", "POST", b'{"prompt": "hi"}', {"Content-Type": "text/plain"})
    assert status == 415  # a cross-site form cannot post JSON
    for payload, field in [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "num_samples": 0}, "num_samples"),
        ({"prompt": "x", "temperature": "hot"}, "temperature"),
        ({"prompt": "x", "model_path": "/etc/passwd"}, "model_path"),
        ({"prompt": "x", "stop": 3}, "stop"),
    ]:
        status, body = _get(
            srv, "/api/runs/0/sample", "POST", json.dumps(payload).encode(), {"Content-Type": "application/json"}
        )
        assert status == 400 and json.loads(body)["error"].startswith(field), (payload, body)
    status, body = _get(srv, "/api/runs/0/sample", "POST", b"[1]", {"Content-Type": "application/json"})
    assert status == 400
    missing = json.dumps({"prompt": "x", "model_path": "tinker://nope:train:0/sampler_weights/final"}).encode()
    status, body = _get(srv, "/api/runs/0/sample", "POST", missing, {"Content-Type": "application/json"})
    assert status == 400 and "nope" in json.loads(body)["error"], body  # the service's refusal, in one line


def test_sample_from_a_checkpoint_with_alternatives(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["sl"])])
    ck = json.loads(_get(srv, "/api/runs/0/checkpoints")[1])
    assert "embedded local server" in ck["endpoint"]
    path = ck["checkpoints"][-1]["sampler_path"]
    body = {"prompt": "What is 2 plus 2?", "model_path": path, "num_samples": 2, "max_tokens": 5, "topk": 3}
    status, raw = _get(
        srv, "/api/runs/0/sample", "POST", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    assert status == 200, raw
    out = json.loads(raw)
    assert out["prompt_rendered"] == "<|bos|>User: What is 2 plus 2?\n\nAssistant:"
    assert len(out["samples"]) == 2
    for s in out["samples"]:
        assert s["tokens"] and all(t["lp"] <= 0 and len(t["top"]) == 3 for t in s["tokens"])
        assert all(t["top"][0]["lp"] >= t["top"][-1]["lp"] for t in s["tokens"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tinkerlite", "view", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_not_a_run_dir_is_one_line(tmp_path: Path) -> None:
    p = _cli(str(tmp_path))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "metrics.jsonl, checkpoints.jsonl, config.json" in lines[0], p.stderr
    assert lines[0].startswith("tinkerlite view: ")


def test_cli_busy_port_says_so(view_runs: dict[str, Path]) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    try:
        port = s.getsockname()[1]
        p = _cli(str(view_runs["sl"]), "--port", str(port))
    finally:
        s.close()
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port} on 127.0.0.1 is busy" in lines[0], p.stderr


def test_cli_export_writes_a_snapshot(view_runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "snap"
    p = _cli(str(view_runs["root"]), "--export", str(out))
    assert p.returncode == 0, p.stderr
    assert {"index.html", "snapshot.js", "static"} <= set(os.listdir(out))
    js = (out / "snapshot.js").read_text()
    assert js.startswith("window.TL_SNAPSHOT = ")
    snap = json.loads(js[len("window.TL_SNAPSHOT = ") : -2])
    assert len(snap["/api/runs"]["runs"]) == 3 and "/api/runs/0/metrics" in snap
    assert '<script src="snapshot.js"></script>' in (out / "index.html").read_text()


def test_wheel_ships_the_page(tmp_path: Path) -> None:
    """The static files are package data: a built wheel carries them (hatch's wheel target)."""
    pytest.importorskip("hatchling")
    p = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in STATIC_FILES:
        assert f"tinkerlite/view/static/{name}" in names, name
    assert "tinkerlite/view/server.py" in names


def test_make_server_refuses_a_non_run_dir(tmp_path: Path) -> None:
    from tinkerlite.view.runs import NotARunDirError

    with pytest.raises(NotARunDirError):
        make_server([str(tmp_path)], port=0)


def test_cli_with_no_dir_uses_the_default_runs_dir(view_runs: dict[str, Path], tmp_path: Path) -> None:
    env = {**os.environ, "TINKER_COOKBOOK_RUNS_DIR": str(view_runs["root"])}
    p = subprocess.run(
        [sys.executable, "-m", "tinkerlite", "view", "--export", str(tmp_path / "s")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "s" / "index.html").is_file()
    env["TINKER_COOKBOOK_RUNS_DIR"] = str(tmp_path / "none")
    p = subprocess.run(
        [sys.executable, "-m", "tinkerlite", "view"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "none: not a directory" in p.stderr


def test_transcripts_route_filters_by_reward(view_runs: dict[str, Path], serve_view: Any) -> None:
    srv = serve_view([str(view_runs["rl"])])
    whole = json.loads(_get(srv, "/api/runs/0/transcripts?iteration=2")[1])
    assert whole["available"] and whole["matched"] == 32 and whole["trajs"][0]["turns"][0]["ac"][0]["lp"] < 0
    top = max(t["total_reward"] for t in whole["trajs"])
    best = json.loads(_get(srv, f"/api/runs/0/transcripts?iteration=2&min={top}&limit=1")[1])
    assert best["matched"] == sum(t["total_reward"] >= top for t in whole["trajs"]) and len(best["trajs"]) == 1
    assert best["trajs"][0]["total_reward"] == top
    assert not json.loads(_get(srv, "/api/runs/0/transcripts?iteration=2&split=..%2Fx")[1])["available"]
