"""tinkerlite.scripts: each script run as a command (``python -m``), end to end against the local server where
the behaviour is local (copy_checkpoint, merge) and against a local HTTP server playing the real service's
endpoint where it is not (the auth token exchange, the audit log); mistakes are one line with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from tests.official_env import REPO

KEY = "tml-scripts-test"


def _run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TINKER")}
    full.update({"PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", f"tinkerlite.scripts.{module}", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(REPO),
    )


def _one_line_usage_error(proc: subprocess.CompletedProcess[str], prog: str, needle: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "Warning" not in ln and "warn" not in ln]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: ") and needle in lines[0], proc.stderr


# ------------------------------------------------------------------------------------- local server


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    pytest.importorskip("numpy", reason="the local server's model needs numpy (the 'local' extra)")
    import tinkerlite as tinker
    from tinkerlite.local import serve

    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        yield url, sc
        sc.close()


def _trained(sc: Any) -> tuple[Any, list[list[int]]]:
    from tinkerlite import types

    tokens = [[5, 9, 14, 3, 7, 11], [8, 2, 6, 13, 4]]
    data = [
        types.Datum(
            model_input=types.ModelInput.from_ints(t[:-1]),
            loss_fn_inputs={"target_tokens": t[1:], "weights": [1.0] * (len(t) - 1)},
        )
        for t in tokens
    ]
    tc = sc.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=4, seed=1).result(timeout=120)
    for _ in range(3):
        tc.forward_backward(data, "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=2e-2)).result(timeout=120)
    return tc, tokens


def test_copy_checkpoint_end_to_end(local: tuple[str, Any]) -> None:
    import tinkerlite as tinker
    from tinkerlite import types

    url, sc = local
    tc, tokens = _trained(sc)
    src = tc.save_state("orig").result(timeout=120).path
    env = {"TINKER_BASE_URL": url, "TINKER_API_KEY": KEY}

    proc = _run("copy_checkpoint", "--source-path", src, env=env)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert line.startswith("sampler_path:  tinker://") and line.endswith("/sampler_weights/orig"), line
    assert src.split("/")[2] not in line  # a new, destination-owned training run
    proc = _run("copy_checkpoint", "--source-path", src, "--output-kind", "training", "--output-name", "dup", env=env)
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    assert line.startswith("training_path: tinker://") and line.endswith("/weights/dup"), line

    # The copy holds the source's weights: same logprobs as the source run's sampler.
    copied = sc.create_sampling_client(model_path=line.split(": ", 1)[1].replace("/weights/", "/sampler_weights/"))
    del copied  # a training path is not a sampler path; compare through a training client instead
    again = sc.create_training_client_from_state(line.split(": ", 1)[1]).result(timeout=120)
    datum = types.Datum(
        model_input=types.ModelInput.from_ints(tokens[0][:-1]),
        loss_fn_inputs={"target_tokens": tokens[0][1:], "weights": [1.0] * (len(tokens[0]) - 1)},
    )
    want = tc.forward([datum], "cross_entropy").result(timeout=120).loss_fn_outputs[0]["logprobs"].tolist()
    got = again.forward([datum], "cross_entropy").result(timeout=120).loss_fn_outputs[0]["logprobs"].tolist()
    assert got == pytest.approx(want, abs=1e-5)
    assert isinstance(again, tinker.TrainingClient)


def test_copy_checkpoint_mistakes(local: tuple[str, Any]) -> None:
    url, _ = local
    env = {"TINKER_BASE_URL": url, "TINKER_API_KEY": KEY}
    bad = _run("copy_checkpoint", "--source-path", "tinker://abc:train:0/sampler_weights/x", env=env)
    _one_line_usage_error(bad, "copy_checkpoint", "Source path must be a tinker://.../weights/<name> checkpoint")
    missing = _run("copy_checkpoint", "--source-path", "tinker://nope:train:0/weights/x", env=env)
    _one_line_usage_error(missing, "copy_checkpoint", "unknown training run 'nope:train:0'")
    usage = _run("copy_checkpoint", env=env)
    assert usage.returncode == 2 and "--source-path" in usage.stderr


def test_merge_script_matches_the_servers_logits(local: tuple[str, Any], tmp_path: Path) -> None:
    import numpy as np

    from tinkerlite import types, weights
    from tinkerlite.local.hf_format import export_base_model, forward_logits
    from tinkerlite.weights._safetensors import load_file

    url, sc = local
    tc, tokens = _trained(sc)
    path = tc.save_state("m").result(timeout=120).path
    adapter = tmp_path / "adapter"
    os.environ["TINKER_API_KEY"] = KEY
    try:
        weights.download(tinker_path=path, output_dir=str(adapter), base_url=url)
    finally:
        del os.environ["TINKER_API_KEY"]
    base = export_base_model("tinkerlite/tiny-chat", tmp_path / "base")
    out = tmp_path / "merged"
    proc = _run(
        "merge_tinker_adapter_to_hf_model",
        "--hf-model",
        str(base),
        "--tinker-adapter-path",
        str(adapter),
        "--output-path",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    merged = load_file(out / "model.safetensors")
    config = json.loads((out / "config.json").read_text())
    datum = types.Datum(
        model_input=types.ModelInput.from_ints(tokens[0][:-1]),
        loss_fn_inputs={"target_tokens": tokens[0][1:], "weights": [1.0] * (len(tokens[0]) - 1)},
    )
    want = np.asarray(tc.forward([datum], "cross_entropy").result(timeout=120).loss_fn_outputs[0]["logprobs"].tolist())
    logits = forward_logits(merged, config, tokens[0][:-1])
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    got = logp[np.arange(len(tokens[0]) - 1), tokens[0][1:]]
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-4)

    bad = _run(
        "merge_tinker_adapter_to_hf_model",
        "--hf-model",
        str(base),
        "--tinker-adapter-path",
        str(tmp_path / "nowhere"),
        "--output-path",
        str(tmp_path / "o2"),
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("merge_tinker_adapter_to_hf_model: "), bad.stderr
    choice = _run(
        "merge_tinker_adapter_to_hf_model",
        "--hf-model",
        "x",
        "--tinker-adapter-path",
        "y",
        "--output-path",
        "z",
        "--quantize",
        "int3",
    )
    assert choice.returncode == 2 and "invalid choice" in choice.stderr


# ------------------------------------------------------------------------------- the service's endpoints


class _Service(BaseHTTPRequestHandler):
    """Plays the real service's /api/v1/auth/token and /api/v1/audit."""

    seen: ClassVar[list[tuple[str, str, dict[str, str]]]] = []
    audit: ClassVar[dict[str, list[dict[str, Any]]]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).seen.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path != "/api/v1/auth/token":
            self._send(200, {})  # the SDK client's start-up exchange (client config): nothing to configure
        elif self.headers.get("X-API-Key") == "good-cred":
            self._send(200, {"jwt": "eyJ.jwt.token"})
        else:
            self._send(401, {"detail": "bad credential"})

    def do_GET(self) -> None:
        type(self).seen.append(("GET", self.path, dict(self.headers)))
        u = urlparse(self.path)
        if u.path != "/api/v1/audit":
            self._send(404, {"detail": "no route"})
            return
        day = parse_qs(u.query).get("day", [datetime.now(timezone.utc).date().isoformat()])[0]
        self._send(200, {"entries": type(self).audit.get(day, [])})


@pytest.fixture()
def service() -> Iterator[str]:
    _Service.seen, _Service.audit = [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_get_access_token(service: str) -> None:
    ok = _run("get_access_token", env={"TINKER_CREDENTIAL_CMD": "echo good-cred", "TINKER_BASE_URL": service})
    assert (ok.returncode, ok.stdout) == (0, "export TINKER_API_KEY=eyJ.jwt.token\n"), ok.stderr
    (post,) = _Service.seen
    assert post[2]["content-type"] == "application/json"
    assert post[:2] == ("POST", "/api/v1/auth/token") and post[2]["x-api-key"] == "good-cred"
    _one_line_usage_error(_run("get_access_token"), "get_access_token", "Set TINKER_CREDENTIAL_CMD")
    refused = _run("get_access_token", env={"TINKER_CREDENTIAL_CMD": "echo bad", "TINKER_BASE_URL": service})
    _one_line_usage_error(refused, "get_access_token", "HTTP 401")
    empty = _run("get_access_token", env={"TINKER_CREDENTIAL_CMD": "true", "TINKER_BASE_URL": service})
    _one_line_usage_error(empty, "get_access_token", "Credential command produced nothing")


def test_save_audit_log(service: str, tmp_path: Path) -> None:
    from tinkerlite.scripts.save_audit_log import days_to_fetch

    today = datetime.now(timezone.utc).date()
    yesterday = today - timedelta(days=1)
    _Service.audit = {
        today.isoformat(): [
            {
                "timestamp": "2026-01-02T03:04:05Z",
                "event": "checkpoint.created",
                "model_id": "m1",
                "tinker_path": "tinker://r:train:0/weights/a",
                "purpose": "training",
                "event_details": {"x": 1},
            },
        ],
        yesterday.isoformat(): [{"timestamp": "2026-01-01T00:00:00Z", "event": "project.created"}],
    }
    out = tmp_path / "audit"
    out.mkdir()
    (out / f"audit_log_{(today - timedelta(days=2)).isoformat()}.jsonl").write_text("kept\n")
    env = {"TINKER_BASE_URL": service, "TINKER_API_KEY": "tml-admin"}
    proc = _run("save_audit_log", "--once", "--output-dir", str(out), "--backfill-days", "2", env=env)
    assert proc.returncode == 0, proc.stderr
    days = sorted(q for m, q, _ in _Service.seen if m == "GET")
    assert len(days) == 2 and all("event_type=all" in q for q in days)  # the day on disk was skipped
    lines = (out / f"audit_log_{today.isoformat()}.jsonl").read_text().splitlines()
    assert [json.loads(ln) for ln in lines] == [
        {
            "event": "checkpoint.created",
            "model_id": "m1",
            "purpose": "training",
            "timestamp": "2026-01-02T03:04:05+00:00",
            "tinker_path": "tinker://r:train:0/weights/a",
        }
    ]
    assert lines[0] == json.dumps(json.loads(lines[0]), sort_keys=True)
    assert json.loads((out / f"audit_log_{yesterday.isoformat()}.jsonl").read_text())["event"] == "project.created"
    assert (out / f"audit_log_{(today - timedelta(days=2)).isoformat()}.jsonl").read_text() == "kept\n"
    assert days_to_fetch(out, today, 3) == [today, today - timedelta(days=3)]
    assert days_to_fetch(out, date(2000, 1, 1), 0) == [date(2000, 1, 1)]

    usage = _run("save_audit_log", "--backfill-days", "-1", env=env)
    assert usage.returncode == 2 and "--backfill-days must be >= 0" in usage.stderr
    nokey = _run("save_audit_log", "--once", "--output-dir", str(tmp_path / "o"), env={"TINKER_BASE_URL": service})
    assert nokey.returncode == 2 and nokey.stderr.startswith("save_audit_log: "), nokey.stderr
