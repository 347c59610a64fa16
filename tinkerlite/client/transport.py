"""Blocking HTTP/1.1 over ``http.client`` with a small keep-alive pool per host.

This is the only module that touches sockets. It performs exactly one logical exchange per call
(following redirects, and resending once when a pooled keep-alive connection turns out to be stale)
and maps every failure without an HTTP response to ``APIConnectionError``/``APITimeoutError``.
Retry policy lives elsewhere.
"""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._exceptions import APIConnectionError, APITimeoutError, RequestInfo, ResponseInfo
from ..types._lazy import dataclass

if TYPE_CHECKING:  # imported where connections are made: http.client (and email) cost ~3 ms of the first import
    import http.client

    from ..codec.body import Body

T = TypeVar("T")
_sent_hook = threading.local()


def call_with_sent_hook(on_sent: Callable[[], None], fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on this thread with ``on_sent`` registered; transports call
    :func:`notify_sent` once a request is fully written, before waiting for the response."""
    _sent_hook.fn = on_sent
    try:
        return fn(*args)
    finally:
        _sent_hook.fn = None


def notify_sent() -> None:
    fn = getattr(_sent_hook, "fn", None)
    if fn is not None:
        _sent_hook.fn = None
        fn()


DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_IDLE_PER_HOST = 20
MAX_REDIRECTS = 5


class Transport(Protocol):
    """What the client needs from a transport; tests substitute a scripted fake. ``body`` is a
    :class:`~tinkerlite.codec.body.Body` only for a transport whose ``accepts_body_pieces`` is true."""

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | Body | None,
        timeout: float,
    ) -> ResponseInfo: ...

    def close(self) -> None: ...


_Key = tuple[str, str, int]


@dataclass
class _HostPool:
    idle: list[http.client.HTTPConnection] = field(default_factory=list)


class PooledTransport:
    """Thread-safe: any thread may call :meth:`request`; idle connections are reused LIFO.

    A :class:`~tinkerlite.codec.body.Body` goes out under its explicit Content-Length without being
    joined into one copy (``sendmsg`` on plain sockets; ~256 KiB runs over TLS, see :func:`_send`); a
    stale-connection resend or a 307/308 redirect writes the same pieces again.
    """

    accepts_body_pieces = True  # callers hand other transports ``bytes`` (see TrainingClient._post_fwdbwd)

    def __init__(
        self,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_idle_per_host: int = DEFAULT_MAX_IDLE_PER_HOST,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle_per_host = max_idle_per_host
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._pools: dict[_Key, _HostPool] = {}
        self._closed = False
        self.connections_opened = 0  # observable for tests/benchmarks

    # ---- pool -------------------------------------------------------------------------------------

    def _take(self, key: _Key) -> http.client.HTTPConnection | None:
        with self._lock:
            pool = self._pools.get(key)
            if pool and pool.idle:
                return pool.idle.pop()
        return None

    def _give_back(self, key: _Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed:
                pool = self._pools.setdefault(key, _HostPool())
                if len(pool.idle) < self.max_idle_per_host:
                    pool.idle.append(conn)
                    return
        conn.close()

    def _new(self, key: _Key, timeout: float) -> http.client.HTTPConnection:
        import http.client

        scheme, host, port = key
        conn: http.client.HTTPConnection
        connect_timeout = min(self.connect_timeout, timeout)  # never past the whole exchange's limit
        if scheme == "https":
            ctx = self._ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=ctx)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        conn.connect()
        with self._lock:
            self.connections_opened += 1
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for p in self._pools.values() for c in p.idle]
            self._pools.clear()
        for c in conns:
            c.close()

    # ---- requests ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | Body | None,
        timeout: float,
    ) -> ResponseInfo:
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._exchange(method, url, headers, body, timeout)
            location = resp.headers.get("location")
            if resp.status_code in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                if resp.status_code in (301, 302, 303) and method.upper() not in ("GET", "HEAD"):
                    method, body = "GET", None
                    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                continue
            return resp
        raise APIConnectionError(RequestInfo(method, url), f"Too many redirects for {method} {url}")

    def _exchange(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | Body | None, timeout: float
    ) -> ResponseInfo:
        import http.client

        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise APIConnectionError(RequestInfo(method, url), f"Unsupported URL {url!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        key: _Key = (scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        info = RequestInfo(method, url)
        hdrs = dict(headers)
        hdrs["Content-Length"] = str(len(body) if body is not None else 0)
        for attempt in range(2):
            conn = self._take(key) if attempt == 0 else None
            reused = conn is not None
            try:
                if conn is None:
                    conn = self._new(key, timeout)
                elif conn.sock is not None:
                    conn.sock.settimeout(timeout)
                _send(conn, method, target, hdrs, body)
                notify_sent()
                raw = conn.getresponse()
            except TimeoutError as e:
                if conn is not None:
                    conn.close()
                raise APITimeoutError(info, f"Request timed out after {timeout:g} s: {method} {url}") from e
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if conn is not None:
                    conn.close()
                if reused:
                    continue  # stale keep-alive connection: one fresh attempt
                raise APIConnectionError(info, f"Connection error: {_describe(e)} ({method} {url})") from e
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                raise APIConnectionError(info, f"Connection error: {_describe(e)} ({method} {url})") from e
            try:
                content = raw.read()
            except TimeoutError as e:
                conn.close()
                raise APITimeoutError(info, f"Request timed out after {timeout:g} s: {method} {url}") from e
            except (OSError, http.client.HTTPException) as e:
                # The server answered and then failed mid-body: not a stale connection, no resend here.
                conn.close()
                raise APIConnectionError(info, f"Connection error: {_describe(e)} ({method} {url})") from e
            resp_headers = {k.lower(): v for k, v in raw.getheaders()}
            if raw.will_close:
                conn.close()
            else:
                self._give_back(key, conn)
            return ResponseInfo(raw.status, resp_headers, content, info)
        raise AssertionError("unreachable")


_IOV_BATCH = 512  # buffers per sendmsg call, well under Linux's IOV_MAX of 1024
_TLS_BATCH = 1 << 18  # over TLS, pieces are written in runs of about this many bytes


def _send(conn: http.client.HTTPConnection, method: str, target: str, hdrs: dict[str, str], body: Any) -> None:
    """Write one request. A pieces body on a plain socket goes out by ``sendmsg`` (scatter/gather, a few
    system calls and no user-space copy). TLS sockets have no ``sendmsg``: there the pieces are joined
    into ~256 KiB runs, each encrypted by one ``sendall`` (one per piece costs ~1.3 ms more CPU for a
    2.1 MB body; the runs stay small enough for the allocator to reuse). Bytes go through as they are."""
    sock = conn.sock
    if body is None or isinstance(body, (bytes, bytearray, memoryview)):
        conn.request(method, target, body=body, headers=hdrs)
        return
    if sock is None or isinstance(sock, ssl.SSLSocket):
        conn.request(method, target, body=_runs(body, _TLS_BATCH), headers=hdrs)
        return
    conn.request(method, target, body=None, headers=hdrs)  # the headers only: Content-Length is set
    views = [memoryview(p).cast("B") for p in body]
    i = 0
    while i < len(views):
        sent = sock.sendmsg(views[i : i + _IOV_BATCH])
        while sent and i < len(views):
            n = views[i].nbytes
            if sent >= n:
                sent -= n
                i += 1
            else:  # a partial write: resume inside this piece
                views[i] = views[i][sent:]
                sent = 0


def _runs(pieces: Iterable[Any], size: int) -> Iterator[Any]:
    """The pieces in order, consecutive ones joined until a run reaches ``size`` bytes."""
    run: list[Any] = []
    n = 0
    for piece in pieces:
        run.append(piece)
        n += piece.nbytes if isinstance(piece, memoryview) else len(piece)
        if n >= size:
            yield run[0] if len(run) == 1 else b"".join(run)
            run, n = [], 0
    if run:
        yield run[0] if len(run) == 1 else b"".join(run)


def _describe(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
