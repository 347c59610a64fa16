"""A server error marked ``x-should-retry: false`` (a missing extra on the server) ends the call at once.

Without the mark, a 500 is retried for the holder's five-minute budget; with it, retrying cannot help,
so the client raises the server's message on the first answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tinkerlite import ServiceClient
from tinkerlite._exceptions import InternalServerError

MESSAGE = (
    "the local server's model needs the optional package 'numpy'; install it with: pip install 'tinkerlite[local]'"
)


class _Refuse(BaseHTTPRequestHandler):
    hits = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/client/config") or self.path.endswith("/create_session"):
            body = {"session_id": "s1"} if "session" in self.path else {}
            self._reply(200, body, {})
            return
        type(self).hits += 1
        self._reply(500, {"detail": MESSAGE}, {"x-should-retry": "false"})

    def _reply(self, status: int, obj: object, headers: dict[str, str]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_non_retryable_server_error_stops_at_once(url: str) -> None:
    _Refuse.hits = 0
    sc = ServiceClient(base_url=url, api_key="tml-test")
    t0 = time.monotonic()
    try:
        with pytest.raises(InternalServerError) as info:
            sc.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=4).result()
    finally:
        sc.close()
    assert time.monotonic() - t0 < 5
    assert "tinkerlite[local]" in str(info.value) or "tinkerlite[local]" in json.dumps(info.value.body)
    assert _Refuse.hits == 1
