"""Organisation-level reads for ``AdminClient`` (SDK 0.38) on the local server.

The local server is one user with nothing to bill and no audit trail, so the audit log and the billing
events are honest empty pages; checkpoint storage usage is real: the count and bytes of every stored,
unexpired checkpoint, at a cost of 0.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .http_types import HTTPError, Request, Response, json_response

if TYPE_CHECKING:
    from .routes import Router

AUDIT_EVENT_TYPES = ("all", "checkpoints", "projects", "teams", "organizations")


def add_routes(router: Router) -> None:
    """Register ``audit``, ``billing/usage/events`` and ``billing/usage/checkpoints/current``."""

    def audit(req: Request, m: re.Match[str]) -> Response:
        kind = req.query.get("event_type", "all")
        if kind not in AUDIT_EVENT_TYPES:
            raise HTTPError(400, f"event_type must be one of {', '.join(AUDIT_EVENT_TYPES)}; got {kind!r}")
        return json_response({"entries": []})

    def billing_events(req: Request, m: re.Match[str]) -> Response:
        for key in ("starting_on", "ending_before"):
            if not req.query.get(key):
                raise HTTPError(400, f"query parameter {key} is required (RFC 3339)")
        return json_response({"data": [], "sessions": {}})

    def storage(req: Request, m: re.Match[str]) -> Response:
        ckpts: list[dict[str, Any]] = router.service.store.list_checkpoints()
        size = sum(int(c.get("size_bytes") or 0) for c in ckpts)
        item = {
            "project_id": req.query.get("project_id") or None,
            "checkpoint_count": len(ckpts),
            "size_bytes": size,
            "size_gigabytes": size / 1e9,
            "estimated_monthly_cost_usd": 0.0,
        }
        return json_response({"effective_rate_usd_per_gigabyte_month": 0.0, "data": [item]})

    for method, pattern, fn in (
        ("GET", "audit", audit),
        ("GET", "billing/usage/events", billing_events),
        ("GET", "billing/usage/checkpoints/current", storage),
    ):
        router._routes.append((method, re.compile(pattern + r"\Z"), fn))
