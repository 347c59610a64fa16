"""Plain request/response values exchanged between the socket layer and the route logic (sans-IO)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tinkerlite.codec.json_codec import dumps

__all__ = ["HTTPError", "Request", "Response", "json_response", "sanitize_json"]

JSON = "application/json"
PROTOBUF = "application/x-protobuf"


@dataclass
class Request:
    method: str
    path: str  # the part after ".../api/v1/", without a leading slash
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class HTTPError(Exception):
    """A request the server refuses; becomes ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sanitize_json(obj: Any) -> Any:
    """Non-finite floats become ``null``: the official SDK decodes with orjson, which refuses NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: sanitize_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize_json(v) for v in obj]
    return obj


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(sanitize_json(obj), exclude_none=False), JSON, dict(headers or {}))
