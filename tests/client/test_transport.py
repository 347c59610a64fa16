"""The http.client transport: keep-alive reuse, stale connections, redirects, timeouts, errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tinkerlite._exceptions import APIConnectionError, APITimeoutError
from tinkerlite.client.transport import PooledTransport


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _do(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/slow":
            time.sleep(0.5)
        if self.path.startswith("/redirect"):
            code = int(self.path.rsplit("/", 1)[-1])
            self.send_response(code)
            self.send_header("Location", "/echo")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = f"{self.command} {self.path} {len(body)} {self.headers.get('Content-Type')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _do


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the timeout test leaves the server writing to a closed socket


@pytest.fixture
def base() -> Iterator[str]:
    srv = _QuietServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_reuses_connections_across_threads(base: str) -> None:
    tr = PooledTransport()
    results: list[bytes] = []

    def work() -> None:
        for _ in range(10):
            results.append(tr.request("POST", base + "/echo", {"Content-Type": "application/json"}, b"{}", 5).content)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40 and all(r == b"POST /echo 2 application/json" for r in results)
    assert tr.connections_opened <= 4
    tr.close()


def test_connection_close_and_stale_connections(base: str) -> None:
    tr = PooledTransport()
    assert tr.request("GET", base + "/close", {}, None, 5).status_code == 200
    assert tr.request("GET", base + "/echo", {}, None, 5).status_code == 200
    # break the pooled connection behind the client's back: the next request reconnects once
    with tr._lock:
        conns = [c for p in tr._pools.values() for c in p.idle]
    for c in conns:
        assert c.sock is not None
        c.sock.shutdown(socket.SHUT_RDWR)
    assert tr.request("POST", base + "/echo", {}, b"x", 5).content == b"POST /echo 1 None"
    tr.close()


@pytest.mark.parametrize(("code", "method"), [(302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")])
def test_redirects(base: str, code: int, method: str) -> None:
    tr = PooledTransport()
    r = tr.request("POST", f"{base}/redirect/{code}", {"Content-Type": "application/json"}, b"{}", 5)
    assert r.status_code == 200 and r.content.decode().startswith(f"{method} /echo")
    tr.close()


def test_read_timeout_and_refused(base: str) -> None:
    tr = PooledTransport()
    with pytest.raises(APITimeoutError, match="timed out"):
        tr.request("GET", base + "/slow", {}, None, 0.1)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(APIConnectionError, match="Connection"):
        tr.request("GET", f"http://127.0.0.1:{port}/x", {}, None, 1)
    with pytest.raises(APIConnectionError, match="Unsupported URL"):
        tr.request("GET", "ftp://x/y", {}, None, 1)
    tr.close()
