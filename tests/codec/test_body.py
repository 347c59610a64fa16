"""The pieces body (codec.body.Body): the same bytes as the joined request, by reference, over real HTTP.

The client hands ``PooledTransport`` a :class:`Body` instead of one joined ``bytes``; these tests pin
that the pieces join to the official golden bytes, that the big buffers are the stored arrays (not
copies), and that the transport sends exactly those bytes, including again on a redirect and on a
stale keep-alive resend, and after partial ``sendmsg`` writes.
"""

from __future__ import annotations

import http.server
import threading
from array import array
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from tinkerlite import types as T
from tinkerlite.client.transport import PooledTransport, _runs, _send
from tinkerlite.codec.body import MIN_PIECE, Body
from tinkerlite.codec.fwdbwd_proto import (
    decode_forward_backward_request,
    encode_forward_backward_body,
    encode_forward_backward_request,
)

from ._proto_helpers import datum_from_spec, golden_bytes, max_map_entries
from .test_fwdbwd_golden import ALL, IDS, VERSIONS


@pytest.mark.parametrize(("key", "case"), ALL, ids=IDS)
def test_pieces_join_to_the_request_bytes(key: str, case: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = dict(
        model_id=case["model_id"],
        seq_id=case["seq_id"],
        loss_fn_config=case["loss_fn_config"],
        forward_only=case["forward_only"],
        version=VERSIONS[key],
    )
    data = [datum_from_spec(d) for d in case["data"]]
    body = encode_forward_backward_body(data, case["loss_fn"], **kwargs)
    joined = b"".join(body)
    assert joined == body.tobytes() == bytes(body) == encode_forward_backward_request(data, case["loss_fn"], **kwargs)
    assert len(body) == len(joined)
    official = golden_bytes(case["bin"])
    if max_map_entries(official, "ForwardBackwardRequest") <= 1:
        assert joined == official


def _big_datums(n: int = 3, s: int = 3000) -> list[T.Datum]:
    return [
        T.Datum(
            T.ModelInput([T.EncodedTextChunk([(i * 7 + j) % 151_000 for j in range(s)])]),
            {
                "target_tokens": T.TensorData([(i + j) % 151_000 for j in range(s)], "int64", [s]),
                "weights": T.TensorData([float(j % 3 == 0) for j in range(s)], "float32", [s]),
            },
        )
        for i in range(n)
    ]


def test_big_buffers_are_referenced_and_small_framing_is_joined() -> None:
    data = _big_datums()
    body = encode_forward_backward_body(data, "cross_entropy", model_id="m:train:0", seq_id=3)
    sizes = [p.nbytes if isinstance(p, memoryview) else len(p) for p in body.pieces]
    # three big buffers per datum (tokens, targets, weights), each with one framing run before it, and a tail
    assert len(body.pieces) == 2 * 3 * len(data) + 1
    assert sum(sizes) == len(body)
    big = [p for p in body.pieces if isinstance(p, memoryview)]
    assert len(big) == 3 * len(data) and all(p.nbytes >= MIN_PIECE for p in big)
    assert all(n < MIN_PIECE for p, n in zip(body.pieces, sizes, strict=True) if not isinstance(p, memoryview))
    # the token and tensor buffers are the stored arrays themselves, not copies
    stored = {id(d.model_input.chunks[0].packed) for d in data}  # type: ignore[union-attr]
    stored |= {id(td.flat) for d in data for td in d.loss_fn_inputs.values()}
    assert {id(p.obj) for p in big} <= stored
    msg = decode_forward_backward_request(body.tobytes())
    assert [d.model_input.to_ints() for d in msg.data] == [d.model_input.to_ints() for d in data]


def test_body_drops_empty_pieces_and_keeps_order() -> None:
    big = memoryview(array("B", range(256)) * 20).cast("B")
    body = Body([b"a", b"", b"bc", big, b"", b"d", memoryview(b"ef")])
    assert body.pieces == (b"abc", big, b"def")
    assert len(body) == 3 + big.nbytes + 3
    assert repr(body) == f"Body({len(body)} bytes in 3 pieces)"
    assert Body([]).tobytes() == b"" and len(Body([])) == 0 and list(Body([])) == []


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: ClassVar[list[bytes]] = []
    drop_after_first = False  # close the keep-alive connection silently after the first answer
    answered = 0

    def do_POST(self) -> None:
        n = int(self.headers["Content-Length"])
        data = self.rfile.read(n)
        if self.path == "/redirect":
            self.send_response(307)
            self.send_header("Location", "/final")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        type(self).bodies.append(data)
        type(self).answered += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        if type(self).drop_after_first and type(self).answered == 1:
            self.close_connection = True  # no "Connection: close": the client pools a dead connection

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"bodies": [], "answered": 0, "drop_after_first": False})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", handler
    finally:
        srv.shutdown()
        srv.server_close()


def _request_body(n: int = 4) -> tuple[Body, bytes]:
    body = encode_forward_backward_body(_big_datums(n), "cross_entropy", model_id="m:train:0", seq_id=1)
    return body, encode_forward_backward_request(_big_datums(n), "cross_entropy", model_id="m:train:0", seq_id=1)


def test_transport_sends_the_pieces_byte_for_byte(server: tuple[str, type[_Recorder]]) -> None:
    url, handler = server
    body, expected = _request_body()
    tr = PooledTransport()
    try:
        for _ in range(2):  # a fresh connection, then the pooled one
            resp = tr.request("POST", url + "/x", {"Content-Type": "application/x-protobuf"}, body, 10)
            assert resp.status_code == 200
        resp = tr.request("POST", url + "/redirect", {"Content-Type": "application/x-protobuf"}, body, 10)
        assert resp.status_code == 200  # 307 resends the same pieces to /final
    finally:
        tr.close()
    assert handler.bodies == [expected] * 3


def test_stale_keepalive_resend_sends_the_same_pieces(server: tuple[str, type[_Recorder]]) -> None:
    url, handler = server
    handler.drop_after_first = True
    body, expected = _request_body()
    tr = PooledTransport()
    try:
        for _ in range(2):
            assert tr.request("POST", url + "/x", {}, body, 10).status_code == 200
    finally:
        tr.close()
    assert handler.bodies == [expected, expected]
    assert tr.connections_opened == 2  # the second request found the pooled connection dead and resent


class _TrickleSocket:
    """A plain socket stand-in whose sendmsg writes at most ``limit`` bytes per call."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out = bytearray()
        self.calls = 0

    def sendmsg(self, buffers: list[memoryview]) -> int:
        self.calls += 1
        room = self.limit
        for b in buffers:
            take = min(room, b.nbytes)
            self.out += b[:take]
            room -= take
            if not room:
                break
        return self.limit - room


class _Conn:
    def __init__(self, sock: _TrickleSocket) -> None:
        self.sock = sock
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []

    def request(self, method: str, target: str, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.requests.append((method, target, body, dict(headers or {})))


@pytest.mark.parametrize("limit", [1, 7, 4096, 10**9])
def test_partial_sendmsg_writes_resume_inside_a_piece(limit: int) -> None:
    body, expected = _request_body()
    if limit == 1:  # one byte a call: keep it short
        body, expected = Body([b"ab", memoryview(b"c" * MIN_PIECE), b"de"]), b"ab" + b"c" * MIN_PIECE + b"de"
    sock = _TrickleSocket(limit)
    conn = _Conn(sock)
    _send(conn, "POST", "/x", {"Content-Length": str(len(body))}, body)  # type: ignore[arg-type]
    assert conn.requests == [("POST", "/x", None, {"Content-Length": str(len(body))})]  # headers only
    assert bytes(sock.out) == expected
    assert sock.calls >= -(-len(expected) // limit)


def test_tls_sockets_get_the_pieces_in_runs() -> None:
    """No sendmsg over TLS (``sock`` None stands for it here): http.client iterates ~256 KiB runs."""
    body, expected = _request_body()
    conn = _Conn(None)  # type: ignore[arg-type]
    _send(conn, "POST", "/x", {"Content-Length": str(len(body))}, body)  # type: ignore[arg-type]
    [(method, target, sent, headers)] = conn.requests
    assert (method, target) == ("POST", "/x")
    runs = list(sent)
    assert b"".join(runs) == expected and headers == {"Content-Length": str(len(expected))}
    pieces = [b"ab", memoryview(b"c" * 10), b"", b"d" * 7, memoryview(b"e" * 30)]
    assert [bytes(r) for r in _runs(pieces, 10)] == [b"ab" + b"c" * 10, b"d" * 7 + b"e" * 30]
    assert list(_runs([], 10)) == []
    big = memoryview(b"f" * 50)
    assert list(_runs([big], 10)) == [big]  # a lone big piece is passed through, not copied


def test_transport_sends_the_pieces_over_real_tls(tmp_path: Any) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a throwaway certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    handler = type("Handler", (_Recorder,), {"bodies": [], "answered": 0, "drop_after_first": False})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(cert), str(key))
    srv.socket = server_ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    body, expected = _request_body(12)  # ~580 KB: more than one ~256 KiB run
    assert len(list(_runs(body, 1 << 18))) == 3
    tr = PooledTransport(ssl_context=ssl.create_default_context(cafile=str(cert)))
    try:
        url = f"https://127.0.0.1:{srv.server_address[1]}"
        for _ in range(2):
            assert tr.request("POST", url + "/x", {}, body, 10).status_code == 200
    finally:
        tr.close()
        srv.shutdown()
        srv.server_close()
    assert handler.bodies == [expected, expected]
