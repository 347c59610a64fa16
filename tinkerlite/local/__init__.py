"""A local Tinker-compatible server that really trains a tiny numpy model.

``with tinkerlite.local.serve() as url:`` runs it in-process on a background thread; point the official
SDK or tinkerlite's client at ``url`` (``TINKER_BASE_URL``). ``tinkerlite serve`` runs it from a shell.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
from collections.abc import Iterator, Mapping
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
            "set TINKER_API_KEY or pass --api-key-file / --keys-file (api_key= / api_keys= in code), or bind 127.0.0.1"
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
    max_body_bytes: int | None = None,
    max_decompressed_bytes: int | None = None,
    max_models: int = 64,
    blas_threads: int | None = 1,
    api_keys: Mapping[str, str] | None = None,
    limits: Any = None,
    access_log: str | None = None,
) -> Iterator[str]:
    """Run the server on a background thread for the duration of the ``with`` block; yields its base URL.

    ``state_dir=None`` keeps checkpoints in a temporary directory removed on exit. ``client_config``
    overrides fields of the ``/client/config`` reply (e.g. ``{"proto_compress_fwdbwd": True,
    "fwdbwd_max_chunk_len": 2}``) so tests can force chunking and compression. ``blas_threads`` limits
    numpy's OpenBLAS pool for the whole process (the tiny model runs 10-30x faster single-threaded on a
    busy machine); None leaves it alone.

    ``api_keys`` maps user names to keys (one key per user; each sees only its own sessions, runs,
    checkpoints and samplers; the user ``admin`` sees all). ``limits`` is a
    :class:`~tinkerlite.local.limits.ServerLimits` (``max_body_bytes`` overrides its field; zstd bodies
    decompress to at most that too). ``access_log`` is a file (or ``-`` for stderr) for one line per request.
    """
    from .._optional import require

    # Checked first: without numpy the server would start and then fail every training request.
    require("numpy", "the local Tinker server", extra="local")
    check_bind(host, api_key or ("<keys>" if api_keys else None))
    if blas_threads is not None:
        from .blas import limit_blas_threads

        limit_blas_threads(blas_threads)
    import dataclasses

    from .limits import ServerLimits, configure_service
    from .routes import Router, RouterOptions
    from .server import make_server, run_in_thread
    from .service import LocalService, ServiceLimits
    from .store import Store

    tmp = tempfile.TemporaryDirectory(prefix="tinkerlite-state-") if state_dir is None else None
    root = tmp.name if tmp is not None else state_dir
    assert root is not None
    lim = limits if limits is not None else ServerLimits()
    if max_body_bytes is not None:
        lim = dataclasses.replace(lim, max_body_bytes=max_body_bytes)
    service = LocalService(Store(root), workers=workers, limits=ServiceLimits(max_models=max_models))
    configure_service(service, lim)
    options = RouterOptions(
        api_key=api_key,
        long_poll_s=long_poll_s,
        max_body_bytes=lim.max_body_bytes,
        max_decompressed_bytes=lim.max_body_bytes if max_decompressed_bytes is None else max_decompressed_bytes,
        client_config=dict(client_config or {}),
        api_keys=dict(api_keys or {}),
        limits=lim,
    )
    handler = None
    if access_log is not None:
        from .accesslog import open_access_log

        handler = open_access_log(access_log)
    httpd = make_server(host, port, Router(service, options), lim)
    thread = run_in_thread(httpd)
    try:
        yield httpd.url
    finally:
        if handler is not None:
            from .accesslog import close_access_log

            close_access_log(handler)
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        service.close()
        if tmp is not None:
            tmp.cleanup()
