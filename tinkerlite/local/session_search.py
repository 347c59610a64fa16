"""``POST /api/v1/sessions/search`` for the local server (``RestClient.search_sessions``, SDK 0.38).

Every local session belongs to one local user in one local project, so owner and project filters either
match everything or nothing; the rest follows the SDK's documented semantics: ``session_id`` or
``display_name`` (case-insensitive, every word a substring), exact ``user_metadata`` pairs, status queries,
newest first, paged by a ``(created_at, session_id)`` cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..types.session_search_request import SessionSearchRequest
from .sessions import Session

LOCAL_USER_URN = "tml:user:local"
LOCAL_PROJECT_ID = "local"


def _status(s: Session) -> dict[str, Any]:
    if s.finished:
        return {"type": "client_finished", "reason": {"type": s.finished}}
    return {"type": "active"}


def _matches_status(s: Session, req: SessionSearchRequest) -> bool:
    if req.statuses is None:
        return True
    for q in req.statuses:
        kind = getattr(q, "type", None)
        if kind == "active" and not s.finished:
            return True
        if kind == "client_finished" and s.finished:
            reasons = getattr(q, "reasons", None)
            if reasons is None or s.finished in reasons:
                return True
    return False  # failed / cancelled: local sessions are never either


def _matches(s: Session, req: SessionSearchRequest) -> bool:
    owner = req.owner
    if getattr(owner, "type", "own") == "user" and LOCAL_USER_URN not in getattr(owner, "owner_urns", []):
        return False
    if req.project_ids is not None and LOCAL_PROJECT_ID not in req.project_ids:
        return False
    if req.session_id is not None or req.display_name is not None:
        by_id = req.session_id is not None and s.session_id == req.session_id
        name = (s.display_name or "").lower()
        words = (req.display_name or "").lower().split()
        by_name = req.display_name is not None and bool(words) and all(w in name for w in words)
        if not (by_id or by_name):
            return False
    if any(s.user_metadata.get(k) != v for k, v in req.user_metadata.items()):
        return False
    return _matches_status(s, req)


def search_sessions(
    sessions: list[Session], body: dict[str, Any], checkpoints_of: Callable[[Session], int]
) -> dict[str, Any]:
    """One page of ``SessionSearchResponse`` JSON for ``body`` (a ``SessionSearchRequest``)."""
    req = SessionSearchRequest.from_json(body)

    def created(s: Session) -> datetime:
        return datetime.fromtimestamp(s.created, tz=timezone.utc)

    hits = sorted((s for s in sessions if _matches(s, req)), key=lambda s: (created(s), s.session_id), reverse=True)
    if req.cursor is not None:
        after = (req.cursor.last_created_at, req.cursor.last_session_id)
        hits = [s for s in hits if (created(s), s.session_id) < after]
    page, more = hits[: req.limit], len(hits) > req.limit
    out: dict[str, Any] = {
        "sessions": [
            {
                "session_id": s.session_id,
                "created_at": created(s).isoformat(),
                "owner": LOCAL_USER_URN,
                "project_id": LOCAL_PROJECT_ID,
                "status": _status(s),
                "checkpoints_count": checkpoints_of(s),
                **({"display_name": s.display_name} if s.display_name else {}),
                **({"user_metadata": dict(s.user_metadata)} if s.user_metadata else {}),
            }
            for s in page
        ]
    }
    if more and page:
        last = page[-1]
        out["next_cursor"] = {"last_created_at": created(last).isoformat(), "last_session_id": last.session_id}
    return out
