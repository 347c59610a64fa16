"""A local Tinker-compatible server that really trains a tiny numpy model.

``with tinkerlite.local.serve() as url:`` runs it in-process on a background thread; point the official
SDK or tinkerlite's client at ``url`` (``TINKER_BASE_URL``). ``tinkerlite serve`` runs it from a shell.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["check_bind", "serve"]


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to expose an unauthenticated training server beyond this machine."""
    if not _is_loopback(host) and not api_key:
        raise ValueError(
            f"refusing to bind {host!r} without an API key: anyone who can reach it could use it; "
            "pass --api-key (or api_key=...) or bind 127.0.0.1"
        )


@contextmanager
def serve(
    port: int = 0,
    state_dir: str | None = None,
    api_key: str | None = None,
    *,
    host: str = "127.0.0.1",
    client_config: dict[str, Any] | None = None,
    long_poll_s: float = 25.0,
    workers: int = 2,
    max_body_bytes: int = 64 * 1024 * 1024,
    max_decompressed_bytes: int = 256 * 1024 * 1024,
    max_models: int = 64,
    blas_threads: int | None = 1,
) -> Iterator[str]:
    """Run the server on a background thread for the duration of the ``with`` block; yields its base URL.

    ``state_dir=None`` keeps checkpoints in a temporary directory removed on exit. ``client_config``
    overrides fields of the ``/client/config`` reply (e.g. ``{"proto_compress_fwdbwd": True,
    "fwdbwd_max_chunk_len": 2}``) so tests can force chunking and compression. ``blas_threads`` limits
    numpy's OpenBLAS pool for the whole process (the tiny model runs 10-30x faster single-threaded on a
    busy machine); None leaves it alone.
    """
    from .._optional import require

    # Checked first: without numpy the server would start and then fail every training request.
    require("numpy", "the local Tinker server", extra="local")
    check_bind(host, api_key)
    if blas_threads is not None:
        from .blas import limit_blas_threads

        limit_blas_threads(blas_threads)
    from .routes import Router, RouterOptions
    from .server import make_server, run_in_thread
    from .service import LocalService, ServiceLimits
    from .store import Store

    tmp = tempfile.TemporaryDirectory(prefix="tinkerlite-state-") if state_dir is None else None
    root = tmp.name if tmp is not None else state_dir
    assert root is not None
    service = LocalService(Store(root), workers=workers, limits=ServiceLimits(max_models=max_models))
    options = RouterOptions(
        api_key=api_key,
        long_poll_s=long_poll_s,
        max_body_bytes=max_body_bytes,
        max_decompressed_bytes=max_decompressed_bytes,
        client_config=dict(client_config or {}),
    )
    httpd = make_server(host, port, Router(service, options))
    thread = run_in_thread(httpd)
    try:
        yield httpd.url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        service.close()
        if tmp is not None:
            tmp.cleanup()
