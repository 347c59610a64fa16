"""What every route module of the local server shares: its options and the request-parsing helpers.

:class:`RouteBase` holds the parsing and answering helpers (typed 400s that name the field); the routes are
split by resource into mixins on top of it (:mod:`.sampling_routes`, :mod:`.rest_routes`), which
:class:`~tinkerlite.local.routes.Router` combines with the training routes and the dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinkerlite.codec.json_codec import loads
from tinkerlite.errors import ProtocolError

from .futures import FutureState
from .http_types import HTTPError, Request, Response, json_response
from .limits import ServerLimits
from .service import LocalService

__all__ = ["RouteBase", "RouterOptions"]

_INT32_MAX = (1 << 31) - 1


@dataclass(frozen=True)
class RouterOptions:
    api_key: str | None = None
    long_poll_s: float = 25.0
    max_body_bytes: int = 64 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    client_config: dict[str, Any] = field(default_factory=dict)  # overrides of ClientConfigResponse fields
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)  # user -> key (see auth.py)
    limits: ServerLimits = field(default_factory=ServerLimits)


class RouteBase:
    """The parsing helpers the route mixins share; ``service`` and ``options`` are set by the Router."""

    service: LocalService
    options: RouterOptions

    @staticmethod
    def _json(req: Request) -> dict[str, Any]:
        if not req.body.strip():
            return {}
        try:
            obj = loads(req.body)
        except (ProtocolError, ValueError, RecursionError) as e:
            raise HTTPError(400, f"request body is not valid JSON: {e}") from None
        if not isinstance(obj, dict):
            raise HTTPError(400, f"request body must be a JSON object, got {type(obj).__name__}")
        return obj

    @staticmethod
    def _int(obj: dict[str, Any], key: str, *, default: int | None = None, lo: int = 0, hi: int = _INT32_MAX) -> int:
        v = obj.get(key, default)
        if v is None:
            if default is None:
                raise HTTPError(400, f"missing required field {key!r}")
            v = default
        if isinstance(v, bool) or not isinstance(v, int):
            raise HTTPError(400, f"{key} must be an integer, got {v!r}")
        if not lo <= v <= hi:
            raise HTTPError(400, f"{key} must lie in [{lo}, {hi}], got {v}")
        return v

    @staticmethod
    def _str(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
        v = obj.get(key)
        if v is None:
            if required:
                raise HTTPError(400, f"missing required field {key!r}")
            return None
        if not isinstance(v, str):
            raise HTTPError(400, f"{key} must be a string, got {type(v).__name__}")
        return v

    @staticmethod
    def _bool(obj: dict[str, Any], key: str, default: bool) -> bool:
        v = obj.get(key, default)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise HTTPError(400, f"{key} must be a boolean, got {v!r}")
        return v

    @staticmethod
    def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
        v = obj.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise HTTPError(400, f"{key} must be an object")
        return v

    def _session(self, session_id: object) -> str:
        s = self.service.sessions.get(session_id)
        if s is None:
            raise HTTPError(404, f"unknown session_id {session_id!r}")
        return s.session_id

    @staticmethod
    def _future(fut: FutureState, model_id: str | None = None, **extra: Any) -> Response:
        body: dict[str, Any] = {"request_id": fut.request_id}
        if model_id is not None:
            body["model_id"] = model_id
        body.update(extra)
        return json_response(body)

    @staticmethod
    def _float(obj: dict[str, Any], key: str, default: float, lo: float, hi: float = 1e6) -> float:
        v = obj.get(key, default)
        if v is None:
            v = default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise HTTPError(400, f"{key} must be a number in [{lo}, {hi}], got {v!r}")
        return float(v)

    @staticmethod
    def _page(req: Request, default_limit: int) -> tuple[int, int]:
        def num(key: str, default: int) -> int:
            raw = req.query.get(key)
            if raw is None or raw == "":
                return default
            if not raw.isdigit() or len(raw) > 9:
                raise HTTPError(400, f"query parameter {key} must be a non-negative integer, got {raw!r}")
            return int(raw)

        return num("limit", default_limit), num("offset", 0)
