"""A loopback forwarding proxy that records request paths and can add a fixed latency to each request.

Tests use it to assert what reached the server (e.g. no ``forward_backward`` for a bad dataset); the
SFT bench uses it to put a round trip of latency between the client and the local server.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingProxy:
    def __init__(self, upstream: str, latency_s: float = 0.0) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path
        self.latency_s = latency_s
        self.paths: list[str] = []
        self.events: list[tuple[str, float, float]] = []  # (path, arrived, answered) in time.monotonic()
        self.lock = threading.Lock()
        self._local = threading.local()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.prefix}"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(p.rsplit("/", 1)[-1] for p in self.paths)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.up_host, self.up_port, timeout=120)
            self._local.conn = conn
        return conn

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without NODELAY, Nagle holds the body until the
                # client's delayed ACK (~40 ms on Linux), which would be charged to the injected latency.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                arrived = time.monotonic()
                path = self.path.partition("?")[0]
                with proxy.lock:
                    proxy.paths.append(path)
                if proxy.latency_s:
                    time.sleep(proxy.latency_s)  # one round trip's worth, before the request reaches the server
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                for attempt in range(2):  # a kept-alive upstream connection may have been closed by the server
                    conn = proxy._upstream()
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        payload = resp.read()
                        break
                    except (http.client.HTTPException, OSError):
                        conn.close()
                        proxy._local.conn = None
                        if attempt:  # upstream gone (e.g. shut down under a late heartbeat): say so, quietly
                            self.send_error(502, "upstream unreachable")
                            return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                with proxy.lock:
                    proxy.events.append((path, arrived, time.monotonic()))

            do_GET = do_POST = do_PUT = do_DELETE = _do

        return Handler
