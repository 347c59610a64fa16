"""A loopback HTTP proxy that injects faults between the client and an upstream test server.

Faults (seeded, per request): an error status without forwarding (500/502/503, 429 with
Retry-After), 408 on ``retrieve_future``, a delay, or forwarding and then resetting the connection
in the middle of the response body (so the upstream *did* apply the request and the client must
resubmit idempotently).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FaultProxy:
    def __init__(self, upstream: str, seed: int = 0, rate: float = 0.3, only_after: str | None = None) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path
        self.rng = random.Random(seed)
        self.rate = rate
        self.enabled = only_after is None
        self.only_after = only_after
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.prefix}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _pick(self, path: str) -> str:
        with self.lock:
            if not self.enabled:
                if self.only_after and path.endswith(self.only_after):
                    self.enabled = True
                return "pass"
            if self.rng.random() >= self.rate:
                return "pass"
            choices = ["500", "502", "503", "429", "delay", "reset"]
            if path.endswith("/retrieve_future"):
                choices.append("408")
            fault = self.rng.choice(choices)
            self.injected[fault] += 1
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._pick(self.path.partition("?")[0])
                if fault in ("500", "502", "503"):
                    self._reply(int(fault), {"detail": "injected"})
                    return
                if fault == "429":
                    self._reply(429, {"detail": "injected"}, {"Retry-After": "1"})
                    return
                if fault == "408":
                    self._reply(408, {"type": "try_again", "queue_state": "active"})
                    return
                if fault == "delay":
                    time.sleep(0.05)
                conn = http.client.HTTPConnection(proxy.up_host, proxy.up_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if fault == "reset":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    # RST instead of FIN: the client sees a reset in the middle of the body
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _do

        return Handler
