"""The HTTP layer trusts no client: stalled connections cost no thread, keyless bodies are never read,
zstd bombs stop at the body limit, and every refusal names its limit. Loopback only, bounded loops."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tinkerlite.local.limits import ServerLimits

from ._guard import Client, running, serve_proc

KEY = "tml-guard-limits-key-0001"


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    return s


def _recv_all(s: socket.socket, limit_s: float = 10.0) -> bytes:
    s.settimeout(limit_s)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def test_slowloris_1000_stalled_connections_cost_no_threads_and_others_are_served() -> None:
    lim = ServerLimits(header_timeout_s=4.0, max_workers=16)
    with running(lim) as live:
        before = threading.active_count()
        stalled = []
        for i in range(1000):
            s = _connect(live.url)
            # Half send nothing, half a head that never ends.
            if i % 2:
                s.sendall(b"POST /api/v1/create_session HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            stalled.append(s)
        time.sleep(0.5)
        t0 = time.monotonic()
        c = Client(live.url)
        sid = c.session()  # another client is served while 1,000 connections stall
        served_in = time.monotonic() - t0
        threads = threading.active_count()
        print(f"slowloris: 1000 stalled, threads {before} -> {threads}, other client served in {served_in:.3f} s")
        assert sid and served_in < 5.0, served_in
        assert threads - before <= lim.max_workers, (before, threads)
        assert live.httpd.stats()["handler_threads"] <= lim.max_workers
        # The stalled ones are dropped once header_timeout_s passes; a half-sent head gets a 408.
        time.sleep(lim.header_timeout_s + 1.5)
        answers = [_recv_all(s, 2.0) for s in stalled[1:20:2]]
        assert all(a.startswith(b"HTTP/1.1 408") and b"header_timeout_s" in a for a in answers), answers[:2]
        assert live.httpd.stats()["waiting_connections"] <= 2
        for s in stalled:
            s.close()
        c.close()


def test_max_connections_sheds_the_oldest_waiting_connection() -> None:
    lim = ServerLimits(max_connections=50, header_timeout_s=30.0)
    with running(lim) as live:
        socks = [_connect(live.url) for _ in range(120)]
        time.sleep(0.5)
        c = Client(live.url)
        assert c.session()
        assert live.httpd.stats()["open_connections"] <= 51
        for s in socks:
            s.close()
        c.close()


def test_head_and_body_limits_answer_4xx_naming_the_limit() -> None:
    lim = ServerLimits(max_header_bytes=2048, max_body_bytes=1024, body_timeout_s=1.5)
    with running(lim) as live:
        s = _connect(live.url)
        s.sendall(b"GET /api/v1/healthz HTTP/1.1\r\nX-Big: " + b"a" * 4096)
        out = _recv_all(s)
        assert out.startswith(b"HTTP/1.1 431") and b"max_header_bytes" in out
        s.close()

        c = Client(live.url)
        status, body, _ = c.raw("POST", "create_session", b"{" + b" " * 2000 + b"}")
        assert status == 413 and b"max_body_bytes" in body
        c.close()

        s = _connect(live.url)  # an unread body off the API closes the connection (never parsed as a request)
        s.sendall(b"POST /elsewhere HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + b"GET / HTTP/1.1\r\n\r\n" * 9000)
        out = _recv_all(s, 5.0)
        assert out.startswith(b"HTTP/1.1 404") and out.count(b"HTTP/1.1") == 1 and b"Connection: close" in out
        s.close()

        s = _connect(live.url)  # a body that stops halfway
        s.sendall(b"POST /api/v1/create_session HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        out = _recv_all(s, 5.0)
        assert out.startswith(b"HTTP/1.1 408") and b"body_timeout_s" in out
        s.close()


def _stream_keyless(url: str, size: int, results: list[bytes]) -> None:
    s = _connect(url)
    try:
        s.sendall(
            b"POST /api/v1/forward_backward HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk = b"\0" * (1 << 20)
        sent = 0
        try:
            while sent < size:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        results.append(_recv_all(s, 5.0))
    finally:
        s.close()


def test_keyless_large_bodies_are_refused_before_reading_rss_bounded() -> None:
    with serve_proc([], env={"TINKER_API_KEY": KEY}) as srv:
        base = srv.status("VmHWM")
        results: list[bytes] = []
        threads = [threading.Thread(target=_stream_keyless, args=(srv.url, 60 << 20, results)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        grown_mb = (srv.status("VmHWM") - base) / 1024
        print(f"keyless 8 x 60 MB: peak RSS grew {grown_mb:.1f} MB")
        assert grown_mb < 24, f"peak RSS grew {grown_mb:.0f} MB for 8 keyless 60 MB bodies"
        # Whoever read an answer got the 401, not a body-size or server error.
        assert all(r.startswith(b"HTTP/1.1 401") for r in results if r), results
        c = Client(srv.url, KEY)
        assert c.session()  # and the server still serves keyed clients
        c.close()


def _zstd_bomb(frames: int, frame_bytes: int) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    one = zstandard.ZstdCompressor(level=19).compress(b"\0" * frame_bytes)
    return one * frames


def test_zstd_bombs_stop_at_the_body_limit_rss_bounded() -> None:
    bomb = _zstd_bomb(16, 16 << 20)  # ~256 MB from a few KB
    assert len(bomb) < 64 * 1024
    with serve_proc(["--max-body-bytes", str(8 << 20)], env={"TINKER_API_KEY": KEY}) as srv:
        c0 = Client(srv.url, KEY)
        assert c0.session()  # warm up before measuring
        base = srv.status("VmHWM")
        answers: list[tuple[int, bytes]] = []

        def send() -> None:
            c = Client(srv.url, KEY)
            st, body, _ = c.raw(
                "POST",
                "forward_backward",
                bomb,
                {"Content-Type": "application/x-protobuf", "Content-Encoding": "zstd"},
            )
            answers.append((st, body))
            c.close()

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 4
        assert all(st == 413 and b"max_body_bytes" in body for st, body in answers), answers
        grown_mb = (srv.status("VmHWM") - base) / 1024
        print(f"zstd bombs 4 x 256 MB (cap 8 MB): peak RSS grew {grown_mb:.1f} MB")
        assert grown_mb < 96, f"peak RSS grew {grown_mb:.0f} MB for 4 zstd bombs capped at 8 MB"
        c0.close()


def test_long_polls_yield_their_threads_without_spinning() -> None:
    from ._guard import fwdbwd_body

    lim = ServerLimits(max_workers=4)
    with running(lim, long_poll_s=10.0) as live:
        c = Client(live.url)
        mid = c.model(c.session())
        # seq_id 2 waits for a seq_id 1 that never comes: its future stays pending.
        rid = c.ok("forward_backward", fwdbwd_body(mid, 2, [1, 2, 3]))["request_id"]
        polls = [0] * 8
        stop = threading.Event()

        def poll(i: int) -> None:
            p = Client(live.url, timeout=15.0)
            while not stop.is_set():
                p.post("retrieve_future", {"request_id": rid})
                polls[i] += 1
            p.close()

        threads = [threading.Thread(target=poll, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        t0 = time.monotonic()
        assert Client(live.url).session()  # served although 8 long polls want 4 threads
        served_in = time.monotonic() - t0
        time.sleep(6.0)
        stop.set()
        for t in threads:
            t.join(20)
        assert served_in < 5.0, served_in
        # Interrupted polls still hold about a second each: no hot loop of instant "try again".
        assert sum(polls) <= 8 * 10, polls
        assert min(polls) >= 2, polls  # and they take turns: none waits for a thread the whole time
        assert live.httpd.stats()["handler_threads"] <= 4
        c.close()
