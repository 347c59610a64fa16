"""The viewer's HTTP layer: routes over :mod:`.runs`, :mod:`.examples` and :mod:`.playground`.

No URL ever becomes a file path: runs are addressed by their index in the discovered list and static files
by name from a fixed table, so ``/../../etc/passwd`` (or any encoding of it) is just an unknown route (404).
Bound to loopback, requests must also carry a loopback ``Host`` (a page on another site cannot reach the
viewer through DNS rebinding), and the one state-changing route (sampling) takes only ``application/json``
(which a cross-site form cannot send without a preflight). A failing request answers 500 with one line;
the server keeps serving.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .examples import render_examples
from .playground import Playground, PlaygroundError
from .runs import (
    MetricsRead,
    discover_runs,
    read_checkpoints,
    read_config,
    read_metrics,
    read_rollouts,
    run_summary,
)
from .transcripts import read_rollout_transcripts

__all__ = ["STATIC_FILES", "RunRegistry", "ViewServer", "make_server", "static_bytes", "to_json_bytes"]

STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_BODY = 64 * 1024


def static_bytes(name: str) -> bytes:
    """A page file shipped as package data (``tinkerlite/view/static/<name>``)."""
    if name not in STATIC_FILES:
        raise KeyError(name)
    return resources.files("tinkerlite.view").joinpath("static").joinpath(name).read_bytes()


class RunRegistry:
    """The run dirs under the given roots, with stable ids (new runs are appended when rediscovered), and
    each run's metrics read so far (extended incrementally, so a reload reads only the new rows)."""

    def __init__(self, roots: Sequence[str], max_points: int = 2000) -> None:
        self.roots = list(roots)
        self.max_points = max_points
        self._lock = threading.Lock()
        self._paths: list[str] = []
        self._metrics: dict[int, tuple[threading.Lock, MetricsRead | None]] = {}
        self.refresh()

    def refresh(self) -> list[str]:
        found = discover_runs(self.roots)
        with self._lock:
            for p in found:
                if p not in self._paths:
                    self._paths.append(p)
            return list(self._paths)

    def path(self, run_id: str) -> str | None:
        if not run_id.isdigit():
            return None
        i = int(run_id)
        with self._lock:
            return self._paths[i] if i < len(self._paths) else None

    def summaries(self) -> list[dict[str, Any]]:
        try:
            paths = self.refresh()
        except ValueError:  # a root was deleted since startup: keep showing what we had
            with self._lock:
                paths = list(self._paths)
        return [{"id": i, **run_summary(p)} for i, p in enumerate(paths)]

    def metrics(self, run_id: int, run_dir: str, since: int, wall: float) -> dict[str, Any]:
        if since > 0:  # a poll: only the rows after the client's offset
            return read_metrics(run_dir, since, wall, self.max_points).to_json()
        with self._lock:
            lock, _ = self._metrics.setdefault(run_id, (threading.Lock(), None))
        with lock:
            cached = self._metrics[run_id][1]
            read = read_metrics(run_dir, max_points=self.max_points, into=cached)  # fresh when truncated
            self._metrics[run_id] = (lock, read)
            return read.to_json()


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, addr: tuple[str, int], registry: RunRegistry, loopback_only: bool) -> None:
        self.registry = registry
        self.playground = Playground()
        self.loopback_only = loopback_only
        super().__init__(addr, _Handler)

    def server_close(self) -> None:
        super().server_close()
        self.playground.close()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host if isinstance(host, str) else host.decode()
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{port}/"


def make_server(roots: Sequence[str], host: str = "127.0.0.1", port: int = 0, max_points: int = 2000) -> ViewServer:
    """A viewer over the run dirs under ``roots`` (raises :class:`~.runs.NotARunDirError` if none)."""
    registry = RunRegistry(roots, max_points)
    return ViewServer((host, port), registry, loopback_only=host in LOOPBACK_HOSTS)


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the CLI prints the URL only
        if os.environ.get("TINKERLITE_VIEW_ACCESS_LOG"):
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, to_json_bytes(obj), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": " ".join(message.split())}, status)

    def _host_ok(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOOPBACK_HOSTS

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            if not self._host_ok():
                self._error(HTTPStatus.FORBIDDEN, "the viewer answers only requests addressed to a loopback host")
                return
            handler = self._route(method)
            if handler is None:
                self._error(HTTPStatus.NOT_FOUND, "no such page")
                return
            handler()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except PlaygroundError as e:
            self._error(HTTPStatus.BAD_REQUEST, str(e))
        except Exception as e:  # one request failed; the server goes on
            from ..cli_errors import describe

            found = describe(e)  # the user-fixable ones (no key, service unreachable, bad checkpoint path): 400
            status = HTTPStatus.BAD_REQUEST if found is not None else HTTPStatus.INTERNAL_SERVER_ERROR
            try:
                self._error(status, found[0] if found is not None else f"{type(e).__name__}: {e}")
            except OSError:
                pass

    def _route(self, method: str) -> Callable[[], None] | None:
        split = urlsplit(self.path)
        parts = split.path.split("/")[1:]
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if method == "GET" and parts in ([""], ["index.html"]):
            return lambda: self._send(200, static_bytes("index.html"), STATIC_FILES["index.html"])
        if method == "GET" and len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC_FILES:
            name = parts[1]
            return lambda: self._send(200, static_bytes(name), STATIC_FILES[name])
        if method == "GET" and parts == ["api", "runs"]:
            return lambda: self._json({"runs": self.server.registry.summaries()})
        if len(parts) != 4 or parts[:2] != ["api", "runs"]:
            return None
        run_id, what = parts[2], parts[3]
        run_dir = self.server.registry.path(run_id)
        if run_dir is None:
            return None
        if method == "POST":
            return (lambda: self._sample(run_dir)) if what == "sample" else None
        readers: dict[str, Callable[[], Any]] = {
            "metrics": lambda: self.server.registry.metrics(
                int(run_id), run_dir, _int(query.get("since"), 0), _float(query.get("wall"), 0.0)
            ),
            "checkpoints": lambda: {
                "checkpoints": read_checkpoints(run_dir),
                "endpoint": self.server.playground.endpoint(run_dir),
            },
            "config": lambda: {"config": read_config(run_dir)},
            "data": lambda: render_examples(
                read_config(run_dir), n=min(_int(query.get("n"), 4), 50), start=_int(query.get("start"), 0)
            ),
            "rollouts": lambda: read_rollouts(run_dir),
            "transcripts": lambda: read_rollout_transcripts(
                run_dir,
                _int(query.get("iteration"), 0),
                query.get("split", "train"),
                _opt_float(query.get("min")),
                _opt_float(query.get("max")),
                limit=min(max(_int(query.get("limit"), 64), 1), 500),
            ),
        }
        reader = readers.get(what)
        return (lambda: self._json(reader())) if reader is not None else None

    def _sample(self, run_dir: str) -> None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "sampling takes a JSON body (application/json)")
            return
        length = _int(self.headers.get("Content-Length"), -1)
        if not 0 <= length <= MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body must be 0..{MAX_BODY} bytes")
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as e:
            raise PlaygroundError(f"the body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise PlaygroundError("the body must be a JSON object")
        self._json(self.server.playground.sample(run_dir, read_config(run_dir), body))


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def to_json_bytes(obj: Any) -> bytes:
    """Strict JSON (a browser's ``JSON.parse`` rejects NaN): non-finite numbers become null."""
    try:
        return json.dumps(obj, allow_nan=False, default=str).encode()
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False, default=str).encode()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _opt_float(value: str | None) -> float | None:
    """A finite float query parameter, or None when absent or not a number (a filter left open)."""
    x = _float(value, float("nan"))
    return x if x == x and abs(x) != float("inf") else None
