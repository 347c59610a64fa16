"""Helpers for the limit, key and isolation tests: an in-process server whose parts the test can
inspect, a subprocess ``tinkerlite serve`` whose RSS and threads can be read from /proc, and a tiny
keyed JSON client (http.client, loopback only)."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tinkerlite.local.limits import ServerLimits, configure_service
from tinkerlite.local.routes import Router, RouterOptions
from tinkerlite.local.server import LocalHTTPServer, make_server, run_in_thread
from tinkerlite.local.service import LocalService
from tinkerlite.local.store import Store

BASE = "tinkerlite/tiny-chat"


@dataclass
class Live:
    url: str
    service: LocalService
    httpd: LocalHTTPServer
    router: Router
    state_dir: str


@contextmanager
def running(
    limits: ServerLimits | None = None,
    *,
    api_key: str | None = None,
    api_keys: dict[str, str] | None = None,
    long_poll_s: float = 2.0,
    workers: int = 2,
) -> Iterator[Live]:
    """The same wiring as ``tinkerlite.local.serve``, with the service and HTTP server exposed."""
    lim = limits or ServerLimits()
    with tempfile.TemporaryDirectory(prefix="tinkerlite-guard-") as root:
        service = LocalService(Store(root), workers=workers)
        configure_service(service, lim)
        opts = RouterOptions(
            api_key=api_key,
            api_keys=dict(api_keys or {}),
            limits=lim,
            long_poll_s=long_poll_s,
            max_body_bytes=lim.max_body_bytes,
            max_decompressed_bytes=lim.max_body_bytes,
        )
        router = Router(service, opts)
        httpd = make_server("127.0.0.1", 0, router, lim)
        t = run_in_thread(httpd)
        try:
            yield Live(httpd.url, service, httpd, router, root)
        finally:
            httpd.shutdown()
            httpd.server_close()
            t.join(timeout=5)
            service.close()


class Client:
    """A keep-alive JSON client with an optional X-API-Key; reconnects when the server closes."""

    def __init__(self, url: str, key: str | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.key = key
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def raw(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        h = dict(headers or {})
        if self.key is not None:
            h.setdefault("X-API-Key", self.key)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, "/api/v1/" + path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data, {k.lower(): v for k, v in r.getheaders()}
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, obj: Any = None) -> tuple[int, Any]:
        body = None if obj is None else json.dumps(obj).encode()
        status, data, _ = self.raw(method, path, body, {"Content-Type": "application/json"} if body else None)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def post(self, path: str, obj: Any) -> tuple[int, Any]:
        return self.call("POST", path, obj)

    def ok(self, path: str, obj: Any) -> Any:
        status, out = self.post(path, obj)
        assert status == 200, (path, status, out)
        return out

    def result(self, request_id: str, limit_s: float = 60.0) -> Any:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            out = self.ok("retrieve_future", {"request_id": request_id})
            if not (isinstance(out, dict) and out.get("type") == "try_again"):
                return out
        raise AssertionError(f"{request_id} did not finish in {limit_s} s")

    def session(self) -> str:
        return str(self.ok("create_session", {"tags": [], "user_metadata": {}})["session_id"])

    def model(self, session_id: str, seq: int = 0, rank: int = 4) -> str:
        body = {"session_id": session_id, "model_seq_id": seq, "base_model": BASE, "lora_config": {"rank": rank}}
        return str(self.result(self.ok("create_model", body)["request_id"])["model_id"])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def datum_json(tokens: list[int]) -> dict[str, Any]:
    n = len(tokens)
    return {
        "model_input": {"chunks": [{"type": "encoded_text", "tokens": tokens}]},
        "loss_fn_inputs": {
            "target_tokens": {"data": [*tokens[1:], 0], "dtype": "int64", "shape": [n]},
            "weights": {"data": [1.0] * n, "dtype": "float32", "shape": [n]},
        },
    }


def fwdbwd_body(model_id: str, seq: int, tokens: list[int]) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "seq_id": seq,
        "forward_backward_input": {"data": [datum_json(tokens)], "loss_fn": "cross_entropy"},
    }


# ---- a `tinkerlite serve` subprocess ------------------------------------------------------------------


@dataclass
class Proc:
    proc: subprocess.Popen[str]
    url: str
    banner: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    def status(self, field: str) -> int:
        """A number from /proc/<pid>/status (VmRSS and VmHWM in KiB, Threads)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def stop(self) -> str:
        """SIGTERM, wait, and return everything it printed after the banner (stdout + stderr)."""
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


@contextmanager
def serve_proc(args: list[str], env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[Proc]:
    full_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    for k, v in list(full_env.items()):
        if v is None:  # type: ignore[comparison-overlap]
            del full_env[k]
    cmd = [sys.executable, "-m", "tinkerlite.local.cli", "--port", "0", *args]
    p = subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1)
        if url and "TINKER_API_KEY" in line:
            break
    if url is None:
        p.kill()
        raise AssertionError("server did not start:\n" + "".join(lines) + (p.stdout.read() or ""))
    proc = Proc(p, url, "".join(lines))
    try:
        yield proc
    finally:
        if p.poll() is None:
            proc.stop()
