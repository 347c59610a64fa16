"""Async client for the SandboxFusion code-execution HTTP API, on the standard library.

SandboxFusion (``docker run -p 8080:8080 volcengine/sandbox-fusion:server-20250609``) takes a POST of
``{"code", "language", "run_timeout", "files"}`` (files base64-encoded) and answers a JSON status record.
The cookbook's client uses aiohttp; this one runs ``urllib`` requests in worker threads, at most
``max_concurrency`` at a time (the rest wait), so it needs no third-party package. As in the cookbook,
``run`` never raises: a transport error or non-200 answer comes back as ``(False, {"error": ...})``.

Environment: ``SANDBOX_URL`` (default ``http://localhost:8080/run_code``), ``SANDBOX_MAX_CONCURRENCY`` (4).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import urllib.error
import urllib.request
from typing import Any

__all__ = ["SandboxFusionClient"]

_TOTAL_TIMEOUT_S = 6000.0  # the cookbook's aiohttp session timeout


class SandboxFusionClient:
    """Run code with supporting files in a SandboxFusion server: ``await client.run(code, files, timeout)``."""

    def __init__(self, url: str | None = None, max_concurrency: int | None = None):
        self._url: str = url or os.getenv("SANDBOX_URL") or "http://localhost:8080/run_code"
        self._max_concurrency = max_concurrency or int(os.getenv("SANDBOX_MAX_CONCURRENCY", "4"))
        if self._max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {self._max_concurrency}")
        self._semaphore: asyncio.Semaphore | None = None
        self._closed = False

    def _post(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self._url,
            data=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=_TOTAL_TIMEOUT_S) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    async def run(
        self,
        code: str,
        files: dict[str, str],
        timeout: float,
        language: str = "python",
    ) -> tuple[bool, dict[str, Any]]:
        """Execute ``code`` with ``files`` ({name: text}); ``(True, response)`` only when status is Success."""
        payload = {
            "code": code,
            "language": language,
            "run_timeout": int(timeout),
            "files": {k: base64.b64encode(v.encode("utf-8")).decode("utf-8") for k, v in files.items()},
        }
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
        self._closed = False
        try:
            async with self._semaphore:
                status, body = await asyncio.to_thread(self._post, payload)
            if status != 200:
                return False, {"error": f"HTTP {status}: {body.decode('utf-8', 'replace')}"}
            data: dict[str, Any] = json.loads(body)
            if data.get("status") == "SandboxError":
                return False, {"error": data.get("message", "SandboxError"), **data}
            return data.get("status") == "Success", data
        except Exception as e:  # the cookbook's contract: report, never raise
            return False, {"error": str(e)}

    async def close(self) -> None:
        """Release the client (connections are per request here, so this only marks it closed)."""
        self._closed = True
        self._semaphore = None
