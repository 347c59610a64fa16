"""A loopback HTTP server that plays the HF hub's ``resolve`` endpoint for the hub client tests.

It answers like the real hub: 200 + ``ETag``/``X-Repo-Commit`` for small (git) files; 302 to a CDN host
with ``X-Linked-Etag`` (the sha256) for LFS files; 401/``X-Error-Code`` for gated and unknown repos; 404
``EntryNotFound`` for missing files; a relative 307 for a renamed repo. The "CDN" is the same server under
``localhost`` instead of ``127.0.0.1`` so that leaking the token to another host is observable.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Repo:
    commit: str
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)
    gated: bool = False


@dataclass
class HubState:
    repos: dict[str, Repo] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    token: str = "hf_secret_token_123"
    truncate: set[str] = field(default_factory=set)  # file names whose body is cut short
    corrupt: set[str] = field(default_factory=set)  # file names served with wrong bytes
    log: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, host+path, auth)
    port: int = 0

    def requests(self, method: str | None = None) -> list[tuple[str, str, str | None]]:
        return [r for r in self.log if method is None or r[0] == method]


def _handler(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, headers: dict[str, str], body: bytes = b"", *, length: int | None = None) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)
                self.wfile.flush()
            if length is not None and length != len(body):
                self.close_connection = True

        def _handle(self) -> None:
            host = self.headers.get("Host", "")
            state.log.append((self.command, host + self.path, self.headers.get("Authorization")))
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path.startswith("/cdn/"):
                self._cdn(path[len("/cdn/") :])
                return
            parts = path.lstrip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                self._send(404, {"X-Error-Code": "RepoNotFound"})
                return
            repo_id = "/".join(parts[:2])
            revision = parts[3]
            filename = "/".join(parts[4:])
            if repo_id in state.renamed:
                new = state.renamed[repo_id]
                self._send(307, {"Location": f"/{new}/resolve/{urllib.parse.quote(revision, safe='')}/{filename}"})
                return
            repo = state.repos.get(repo_id)
            if repo is None:
                self._send(401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
                return
            if repo.gated and self.headers.get("Authorization") != f"Bearer {state.token}":
                self._send(401, {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access restricted"})
                return
            if revision not in ("main", repo.commit):
                self._send(404, {"X-Error-Code": "RevisionNotFound"})
                return
            data = repo.files.get(filename)
            if data is None:
                self._send(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": repo.commit})
                return
            if filename in repo.lfs:
                sha = hashlib.sha256(data).hexdigest()
                self._send(
                    302,
                    {
                        "Location": f"http://localhost:{state.port}/cdn/{repo_id.replace('/', '--')}/{filename}",
                        "X-Linked-Etag": f'"{sha}"',
                        "X-Linked-Size": str(len(data)),
                        "X-Repo-Commit": repo.commit,
                        "ETag": '"not-the-blob"',
                    },
                )
                return
            etag = hashlib.sha1(data).hexdigest()
            self._send(200, {"ETag": f'"{etag}"', "X-Repo-Commit": repo.commit}, data)

        def _cdn(self, rest: str) -> None:
            repo_key, _, filename = rest.partition("/")
            repo = state.repos.get(repo_key.replace("--", "/"))
            data = None if repo is None else repo.files.get(filename)
            if data is None:
                self._send(404, {})
                return
            if filename in state.corrupt:
                data = data[:-1] + bytes([data[-1] ^ 1])
            if filename in state.truncate:
                self._send(200, {}, data[: len(data) // 2], length=len(data))
                return
            self._send(200, {}, data)

        def do_HEAD(self) -> None:
            self._handle()

        def do_GET(self) -> None:
            self._handle()

    return Handler


@contextmanager
def serve(state: HubState) -> Iterator[str]:
    """Run the fake hub; yields its endpoint (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{state.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
