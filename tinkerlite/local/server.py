"""Socket I/O for the local server: ``http.server`` threads in, :class:`Router` out.

Only transport lives here: the ``/api/v1/`` prefix is located anywhere in the path (the SDK appends
routes to the base URL's path), bodies are read up to a cap (413 beyond it), and every reply has a
``Content-Length`` so HTTP/1.1 keep-alive works with httpx.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .http_types import Request, Response, json_response
from .routes import Router

__all__ = ["LocalHTTPServer", "make_server"]

log = logging.getLogger("tinkerlite.local")
_PREFIX = "/api/v1/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid 40 ms delayed-ACK stalls
    server: LocalHTTPServer
    server_version = "tinkerlite-local"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        try:
            resp = self._route()
        except Exception as e:  # never let a handler thread die without answering
            log.exception("unhandled error")
            resp = json_response({"detail": f"internal error: {type(e).__name__}"}, 500)
        self._send(resp)

    def _route(self) -> Response:
        parts = urlsplit(self.path)
        idx = parts.path.find(_PREFIX)
        if idx < 0:
            if parts.path.rstrip("/").endswith("/healthz") or parts.path in ("/", "/healthz"):
                return json_response({"status": "ok"})
            return json_response({"detail": f"no such endpoint: {parts.path} (routes live under /api/v1/)"}, 404)
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return json_response({"detail": "chunked request bodies are not supported; send Content-Length"}, 411)
        raw_len = self.headers.get("Content-Length")
        if raw_len:
            try:
                length = int(raw_len)
            except ValueError:
                self.close_connection = True
                return json_response({"detail": f"bad Content-Length {raw_len!r}"}, 400)
            if length < 0:
                self.close_connection = True
                return json_response({"detail": f"bad Content-Length {raw_len!r}"}, 400)
            if length > self.server.router.options.max_body_bytes:
                self.close_connection = True
                return json_response(
                    {"detail": f"request body of {length} bytes exceeds {self.server.router.options.max_body_bytes}"},
                    413,
                )
            body = self.rfile.read(length)
            if len(body) != length:
                self.close_connection = True
                return json_response({"detail": "request body shorter than Content-Length"}, 400)
        req = Request(
            method=self.command,
            path=parts.path[idx + len(_PREFIX) :].strip("/"),
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        return self.server.router.handle(req)

    def _send(self, resp: Response) -> None:
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class LocalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request is routine (timeouts, cancelled polls); log, don't print.
        log.debug("connection error from %s", client_address, exc_info=True)

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        self.router = router
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        if ":" in str(host):
            host = f"[{host}]"
        return f"http://{host}:{port}"


def make_server(host: str, port: int, router: Router) -> LocalHTTPServer:
    return LocalHTTPServer((host, port), router)


def run_in_thread(server: LocalHTTPServer) -> threading.Thread:
    t = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="tinkerlite-http", daemon=True
    )
    t.start()
    return t
