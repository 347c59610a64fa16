"""The access log of ``tinkerlite serve``: one line per request, never a key or a query string.

A line is ``<UTC time> <user> <METHOD> <path> <status> <ms>ms run=<run id>``. The path has its query
string removed (a client might put a credential there); headers are never logged, so the ``X-API-Key``
cannot reach the log. The run id is the model or training run the request named, when it named one.
Lines go to the ``tinkerlite.access`` logger; :func:`open_access_log` attaches a file or stderr to it.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

from .auth import Principal
from .http_types import Response

__all__ = ["open_access_log", "record"]

log = logging.getLogger("tinkerlite.access")
log.propagate = False  # only where an operator asked for it (serve --access-log)
_RUN_IN_PATH = re.compile(r"training_runs/([^/?]+)|sessions/([^/?]+)")
_RUN_IN_BODY = re.compile(rb'"(?:model_id|training_run_id|sampling_session_id)"\s*:\s*"([^"\\]{1,200})"')
_SAFE = re.compile(r"[^A-Za-z0-9_./:@%+=-]")


def _clean(s: str, limit: int = 300) -> str:
    return _SAFE.sub("_", s[:limit])


def record(method: str, target: str, status: int, seconds: float, who: Principal | None, resp: Response) -> None:
    if not log.handlers:
        return
    path = target.split("?", 1)[0]
    run = ""
    m = _RUN_IN_PATH.search(path)
    if m:
        run = m.group(1) or m.group(2) or ""
    elif resp.content_type == "application/json" and len(resp.body) < 8192:
        mb = _RUN_IN_BODY.search(resp.body)
        if mb:
            run = mb.group(1).decode("utf-8", "replace")
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    user = who.user if who is not None else "-"
    log.info(
        "%s %s %s %s %d %.1fms run=%s",
        ts,
        _clean(user),
        _clean(method, 16),
        _clean(path),
        status,
        seconds * 1000.0,
        _clean(run) or "-",
    )


def open_access_log(dest: str) -> logging.Handler:
    """Send access lines to ``dest`` (a file path, appended; ``-`` for stderr). Returns the handler."""
    handler: logging.Handler
    if dest == "-":
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(dest, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def close_access_log(handler: Any) -> None:
    log.removeHandler(handler)
    handler.close()
