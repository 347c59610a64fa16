"""Socket I/O for the local server: one selector thread reads request heads, a bounded pool runs them.

Why not ``ThreadingHTTPServer``: it gives every connection a thread before a byte arrives, so 1,000
stalled connections hold 1,000 threads. Here a connection costs a thread only once its whole request
head has arrived (``header_timeout_s``); idle keep-alive connections wait in the selector
(``idle_timeout_s``), and the oldest waiting one is closed when ``max_connections`` is reached. A
handler thread (at most ``max_workers``) checks the API key and the body size *before* reading the
body, reads it within ``body_timeout_s``, calls the sans-IO :class:`Router`, and hands a keep-alive
connection back to the selector. Every refusal names its limit (see :mod:`.limits`).
"""

from __future__ import annotations

import collections
import email.utils
import errno
import http
import logging
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import accesslog
from .auth import Principal
from .http_types import HTTPError, Request, Response, json_response
from .limits import LimitError, ServerLimits
from .routes import Router

__all__ = ["LocalHTTPServer", "make_server", "run_in_thread"]

log = logging.getLogger("tinkerlite.local")
_PREFIX = "/api/v1/"
_DRAIN_MAX = 64 * 1024  # a refused body this small is read and dropped, so the client sees the answer


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    addr: Any
    buf: bytearray = field(default_factory=bytearray)
    deadline: float = 0.0
    idle: bool = True  # waiting for a request's first byte (as opposed to inside a head)
    served: int = 0


class _Close(Exception):
    """End this connection after sending ``response`` (if any)."""

    def __init__(self, response: Response | None = None) -> None:
        super().__init__()
        self.response = response


def _reply(status: int, message: str) -> Response:
    return json_response({"detail": message}, status)


class LocalHTTPServer:
    """The listening socket, its selector thread and the handler pool (``serve_forever``/``shutdown``)."""

    def __init__(self, address: tuple[str, int], router: Router, limits: ServerLimits | None = None) -> None:
        self.router = router
        self.limits = limits or getattr(router.options, "limits", None) or ServerLimits()
        host, port = address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host.strip("[]"), port), family=family, backlog=1024)
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._waiting: dict[socket.socket, _Conn] = {}  # in the selector, insertion order = oldest first
        self._lock = threading.Lock()
        self._returned: collections.deque[_Conn] = collections.deque()
        self._ready: collections.deque[_Conn] = collections.deque()
        self._ready_cv = threading.Condition(self._lock)
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0
        self._inflight = 0
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._open = 0
        self._last_sweep = 0.0
        self._last_live = 0
        self._last_trim = 0.0
        self._trim_due = False

    # ---- the selector thread ----------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self._sel.register(self.socket, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stop.is_set():
                for key, _ in self._sel.select(min(poll_interval, 0.25)):
                    try:
                        if key.data == "listen":
                            self._accept()
                        elif key.data == "wake":
                            self._take_returned()
                        else:
                            self._readable(key.data)
                    except Exception:  # one bad connection must never stop the selector thread
                        log.exception("connection event failed")
                        if isinstance(key.data, _Conn):
                            self._unwait(key.data)
                            self._close(key.data)
                now = time.monotonic()
                if now - self._last_sweep >= 0.25:
                    self._last_sweep = now
                    self._expire(now)
                    self._maintenance()
                    with self._lock:
                        starved = len(self._ready) > self._idle_workers
                    if starved:  # requests still wait for a thread: long polls keep yielding theirs
                        self._interrupt_polls()
        finally:
            self._stopped.set()

    def _accept(self) -> None:
        for _ in range(256):
            try:
                sock, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # EMFILE and friends: shed the oldest waiting connection, try later
                log.warning("accept failed: %s", e)
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    self._evict_oldest()
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open += 1
                over = self._open > self.limits.max_connections
            if over:
                self._evict_oldest()
            self._wait(_Conn(sock, addr, deadline=time.monotonic() + self.limits.header_timeout_s, idle=True))

    def _evict_oldest(self) -> None:
        conn = next(iter(self._waiting.values()), None)
        if conn is not None:
            log.debug("max_connections reached: closing the oldest waiting connection from %s", conn.addr)
            self._unwait(conn)
            self._close(conn)

    def _wait(self, conn: _Conn) -> None:
        self._waiting[conn.sock] = conn
        self._sel.register(conn.sock, selectors.EVENT_READ, conn)

    def _unwait(self, conn: _Conn) -> None:
        self._waiting.pop(conn.sock, None)
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass

    def _readable(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._unwait(conn)
            self._close(conn)
            return
        if conn.idle:
            conn.idle = False
            conn.deadline = time.monotonic() + self.limits.header_timeout_s
        conn.buf += data
        self._check_head(conn)

    def _check_head(self, conn: _Conn) -> None:
        end = conn.buf.find(b"\r\n\r\n")
        if end > self.limits.max_header_bytes or (end < 0 and len(conn.buf) > self.limits.max_header_bytes):
            self._unwait(conn)
            limit = self.limits.max_header_bytes
            self._refuse(conn, LimitError(431, "max_header_bytes", f"request head over {limit} bytes"))
        elif end >= 0:
            self._unwait(conn)
            self._dispatch(conn)

    def _refuse(self, conn: _Conn, err: HTTPError) -> None:
        """Best-effort answer from the selector thread (small, non-blocking), then close."""
        resp = _reply(err.status, err.message)
        try:
            conn.sock.send(_head_bytes(resp, close=True) + resp.body)
        except OSError:
            pass
        self._close(conn)

    def _expire(self, now: float) -> None:
        late = [c for c in self._waiting.values() if c.deadline <= now]
        for conn in late:
            self._unwait(conn)
            if conn.idle:
                self._close(conn)
            else:
                self._refuse(conn, LimitError(408, "header_timeout_s", "request head not received in time"))

    def _take_returned(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            with self._lock:
                if not self._returned:
                    return
                conn = self._returned.popleft()
            if self._stop.is_set():
                self._close(conn)
                continue
            try:
                self._wait(conn)
            except (OSError, ValueError, KeyError):  # closed or already registered: drop it
                self._close(conn)
                continue
            if conn.buf:  # a pipelined request arrived with the last one
                conn.idle = False
                self._check_head(conn)

    def _dispatch(self, conn: _Conn) -> None:
        with self._lock:
            busy = len(self._ready) >= self.limits.max_queued_requests
            pressure = False
            if not busy:
                self._ready.append(conn)
                if len(self._ready) > self._idle_workers:
                    if len(self._workers) < self.limits.max_workers:
                        name = f"tinkerlite-http-{len(self._workers)}"
                        t = threading.Thread(target=self._work, name=name, daemon=True)
                        self._workers.append(t)
                        t.start()
                    else:
                        pressure = True
                self._ready_cv.notify()
        if busy:
            self._refuse(conn, LimitError(503, "max_queued_requests", "server busy: too many requests waiting"))
        elif pressure:
            # Every handler is busy, most likely in long polls: ask those to answer "try again" now.
            self._interrupt_polls()

    def _interrupt_polls(self) -> None:
        futures = getattr(self.router.service, "futures", None)
        if futures is not None and hasattr(futures, "interrupt_waiters"):
            futures.interrupt_waiters()

    def _maintenance(self) -> None:
        svc = self.router.service
        live = getattr(svc, "live_models", None)
        n_live = (len(live()) if live is not None else 0) + len(getattr(svc, "_samplers", ()))
        if n_live < self._last_live:
            self._trim_due = True
        self._last_live = n_live
        if self._trim_due and time.monotonic() - self._last_trim > 1.0:
            # Models or samplers were dropped: hand the freed heap back to the OS, so RSS falls after
            # sessions close (glibc keeps freed arenas otherwise).
            self._last_trim = time.monotonic()
            self._trim_due = False
            _malloc_trim()
        for part in (getattr(svc, "sessions", None), getattr(svc, "futures", None), getattr(svc, "scheduler", None)):
            sweep = getattr(part, "sweep", None)
            if sweep is not None:
                try:
                    sweep()
                except Exception:  # a sweep must never stop the server
                    log.exception("maintenance sweep failed")

    def _close(self, conn: _Conn) -> None:
        with self._lock:
            self._open -= 1
        try:
            conn.sock.close()
        except OSError:
            pass

    # ---- handler threads --------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._ready and not self._stop.is_set():
                    self._idle_workers += 1
                    self._ready_cv.wait()
                    self._idle_workers -= 1
                if self._stop.is_set():
                    return
                conn = self._ready.popleft()
            keep = False
            try:
                keep = self._serve_one(conn)
            except Exception:  # never lose a handler thread
                log.exception("connection handler failed")
            if keep and not self._stop.is_set():
                try:
                    conn.sock.setblocking(False)
                except OSError:
                    keep = False
            if keep:
                conn.deadline = time.monotonic() + (
                    self.limits.header_timeout_s if conn.buf else self.limits.idle_timeout_s
                )
                conn.idle = not conn.buf
                with self._lock:
                    self._returned.append(conn)
                try:
                    self._wake_w.send(b"x")
                except OSError:
                    pass
            else:
                self._linger_close(conn)

    def _linger_close(self, conn: _Conn) -> None:
        """Close after our answer without resetting it away: stop sending, read briefly what the client
        still sends (a refused body), then close. Bounded: 0.5 s and 1 MiB."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            deadline, budget = time.monotonic() + 0.5, 1 << 20
            while budget > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                conn.sock.settimeout(left)
                chunk = conn.sock.recv(65536)
                if not chunk:
                    break
                budget -= len(chunk)
        except OSError:
            pass
        self._close(conn)

    def _serve_one(self, conn: _Conn) -> bool:
        """Handle one request whose head is in ``conn.buf``; True to keep the connection."""
        t0 = time.monotonic()
        idx = conn.buf.find(b"\r\n\r\n")
        head = bytes(conn.buf[:idx])
        del conn.buf[: idx + 4]
        conn.sock.settimeout(self.limits.body_timeout_s)
        method, target, principal, close = "-", "-", None, True
        resp: Response
        try:
            method, target, version, headers = _parse_head(head)
            close = _wants_close(version, headers)
            resp, principal = self._answer(conn, method, target, headers)
        except _Close as c:
            close = True
            resp = c.response or _reply(400, "bad request")
        sent = self._send(conn, resp, method, close)
        conn.served += 1
        accesslog.record(method, target, resp.status, time.monotonic() - t0, principal, resp)
        return sent and not close

    def _answer(
        self, conn: _Conn, method: str, target: str, headers: dict[str, str]
    ) -> tuple[Response, Principal | None]:
        parts = urlsplit(target)
        idx = parts.path.find(_PREFIX)
        length = _content_length(headers)
        if idx < 0:
            if parts.path.rstrip("/").endswith("/healthz") or parts.path in ("/", "/healthz"):
                resp = json_response({"status": "ok"})
            else:
                resp = _reply(404, f"no such endpoint: {parts.path} (routes live under /api/v1/)")
            if not self._discard(conn, length):
                raise _Close(resp)  # an unread body would be taken for the next request
            return resp, None
        path = parts.path[idx + len(_PREFIX) :].strip("/")
        req = Request(method=method, path=path, query=dict(parse_qsl(parts.query)), headers=headers)
        try:
            principal = self.router.authenticate(req)  # before a byte of the body is read
        except HTTPError as e:
            self._discard(conn, length)
            raise _Close(_reply(e.status, e.message)) from None
        if length > self.limits.max_body_bytes:
            self._discard(conn, length)
            raise _Close(
                _err(
                    LimitError(
                        413, "max_body_bytes", f"request body of {length} bytes exceeds {self.limits.max_body_bytes}"
                    )
                )
            )
        with self._lock:
            if length and self._inflight + length > self.limits.max_inflight_body_bytes:
                over = True
            else:
                over = False
                self._inflight += length
        if over:
            self._discard(conn, length)
            raise _Close(
                _err(LimitError(429, "max_inflight_body_bytes", "server busy: too many request bytes in flight; retry"))
            )
        try:
            if length and headers.get("expect", "").lower() == "100-continue":
                conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            req.body = self._read_body(conn, length)
            return self.router.handle(req), principal
        finally:
            with self._lock:
                self._inflight -= length

    def _read_body(self, conn: _Conn, length: int) -> bytes:
        if length <= len(conn.buf):
            body = bytes(conn.buf[:length])
            del conn.buf[:length]
            return body
        out = bytearray(length)
        have = len(conn.buf)
        out[:have] = conn.buf
        conn.buf.clear()
        view = memoryview(out)
        deadline = time.monotonic() + self.limits.body_timeout_s
        try:
            while have < length:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError()
                conn.sock.settimeout(left)
                n = conn.sock.recv_into(view[have:], min(length - have, 1 << 20))
                if n == 0:
                    raise _Close(_reply(400, "request body shorter than Content-Length"))
                have += n
        except TimeoutError:
            raise _Close(_err(LimitError(408, "body_timeout_s", "request body not received in time"))) from None
        except OSError:
            raise _Close(None) from None
        finally:
            view.release()
        return bytes(out)

    def _discard(self, conn: _Conn, length: int) -> bool:
        """Read and drop a small refused body (so the client reads our answer); False if not drained."""
        if length > _DRAIN_MAX:
            return False
        try:
            self._read_body(conn, length)
        except _Close:
            return False
        return True

    def _send(self, conn: _Conn, resp: Response, method: str, close: bool) -> bool:
        data = _head_bytes(resp, close)
        try:
            conn.sock.settimeout(self.limits.body_timeout_s)
            if method == "HEAD" or len(resp.body) < 65536:
                conn.sock.sendall(data + (b"" if method == "HEAD" else resp.body))
            else:
                conn.sock.sendall(data)
                conn.sock.sendall(resp.body)
            return True
        except OSError:
            return False

    # ---- lifecycle --------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        with self._lock:
            self._ready_cv.notify_all()
        self._interrupt_polls()
        self._stopped.wait(timeout=5)

    def server_close(self) -> None:
        for conn in list(self._waiting.values()):
            self._unwait(conn)
            self._close(conn)
        with self._lock:
            pending = list(self._ready) + list(self._returned)
            self._ready.clear()
            self._returned.clear()
        for conn in pending:
            self._close(conn)
        for s in (self.socket, self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass
        self._sel.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if ":" in str(host):
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def stats(self) -> dict[str, int]:
        """Connection and thread counts (tests and diagnostics)."""
        with self._lock:
            return {
                "open_connections": self._open,
                "waiting_connections": len(self._waiting),
                "handler_threads": len(self._workers),
                "queued_requests": len(self._ready),
                "inflight_body_bytes": self._inflight,
            }


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _err(e: HTTPError) -> Response:
    return _reply(e.status, e.message)


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
        raise _Close(_reply(400, "bad request head")) from None
    lines = text.split("\r\n")
    while lines and not lines[0]:  # tolerate stray CRLFs between requests (RFC 9112 2.2)
        lines.pop(0)
    if not lines:
        raise _Close(_reply(400, "empty request line"))
    words = lines[0].split(" ")
    if len(words) != 3 or not words[0].isalpha() or not words[2].startswith("HTTP/1."):
        raise _Close(_reply(400, f"bad request line {lines[0][:100]!r}"))
    method, target, version = words
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise _Close(_reply(400, f"bad header line {line[:100]!r}"))
        key = name.lower()
        value = value.strip()
        if key == "content-length" and key in headers and headers[key] != value:
            raise _Close(_reply(400, "conflicting Content-Length headers"))
        headers[key] = f"{headers[key]}, {value}" if key in headers and key != "content-length" else value
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _Close(_reply(411, "chunked request bodies are not supported; send Content-Length"))
    return method, target, version, headers


def _content_length(headers: dict[str, str]) -> int:
    raw = headers.get("content-length")
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise _Close(_reply(400, f"bad Content-Length {raw!r}"))
    return int(raw)


def _wants_close(version: str, headers: dict[str, str]) -> bool:
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if version == "HTTP/1.0":
        return "keep-alive" not in tokens
    return "close" in tokens


def _head_bytes(resp: Response, close: bool) -> bytes:
    try:
        phrase = http.HTTPStatus(resp.status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [
        f"HTTP/1.1 {resp.status} {phrase}",
        "Server: tinkerlite-local",
        f"Date: {email.utils.formatdate(usegmt=True)}",
        f"Content-Type: {resp.content_type}",
        f"Content-Length: {len(resp.body)}",
    ]
    lines += [f"{k}: {v}" for k, v in resp.headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def make_server(host: str, port: int, router: Router, limits: ServerLimits | None = None) -> LocalHTTPServer:
    return LocalHTTPServer((host, port), router, limits)


def run_in_thread(server: LocalHTTPServer) -> threading.Thread:
    t = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="tinkerlite-http", daemon=True
    )
    t.start()
    return t
