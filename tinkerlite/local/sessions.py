"""Client sessions: ids, heartbeats, expiry, finish, and which models and samplers each session owns.

A session lives while its client heartbeats (or sends requests that name its models or samplers); one
silent for ``timeout_s`` expires: it is finished with reason ``"expired"`` and ``on_finish`` unloads what
it held. Finished sessions stay visible for ``retention_s`` and are then forgotten. Live sessions are
capped in all (``max_sessions``) and per user (``max_per_user``); beyond either, creating one is a 429.
Each session belongs to the user who created it; another user's lookups find nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import auth
from .limits import LimitError

__all__ = ["Session", "SessionRegistry"]


@dataclass
class Session:
    session_id: str
    created: float
    tags: list[str] = field(default_factory=list)
    user_metadata: dict[str, Any] = field(default_factory=dict)
    display_name: str | None = None
    last_heartbeat: float = 0.0
    finished: str | None = None  # the finish reason, first one wins
    model_ids: list[str] = field(default_factory=list)
    sampler_ids: list[str] = field(default_factory=list)
    owner: str = field(default_factory=auth.current_user)
    finished_at: float = 0.0


class SessionRegistry:
    def __init__(
        self,
        max_sessions: int = 10_000,
        *,
        timeout_s: float = 300.0,
        retention_s: float = 600.0,
        max_per_user: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}  # creation order
        self._max = max_sessions
        self._max_per_user = max_per_user or max_sessions
        self._timeout_s = timeout_s
        self._retention_s = retention_s
        self._last_sweep = 0.0
        #: Called (outside the lock) with a session id when a session expires; the service unloads its models.
        self.on_finish: Callable[[str], None] | None = None

    def configure(self, *, max_sessions: int, max_per_user: int, timeout_s: float, retention_s: float) -> None:
        with self._lock:
            self._max, self._max_per_user = max_sessions, max_per_user
            self._timeout_s, self._retention_s = timeout_s, retention_s

    def create(self, tags: list[str], user_metadata: dict[str, Any], display_name: str | None) -> Session:
        now = time.time()
        s = Session(uuid.uuid4().hex[:16], now, tags, user_metadata, display_name, now)
        if self._live_count() >= min(self._max, self._max_per_user):
            self.sweep(force=True)
        with self._lock:
            live = [v for v in self._sessions.values() if not v.finished]
            if len(live) >= self._max:
                raise LimitError(429, "max_sessions", f"this server holds {len(live)} live sessions; finish some first")
            mine = sum(1 for v in live if v.owner == s.owner)
            if mine >= self._max_per_user:
                raise LimitError(429, "max_sessions_per_user", f"user {s.owner!r} holds {mine} live sessions")
            self._sessions[s.session_id] = s
            self._forget_finished(2 * self._max)
        return s

    def _live_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def sweep(self, force: bool = False) -> list[str]:
        """Expire silent sessions, forget long-finished ones; returns the ids expired now."""
        now = time.time()
        if not force and now - self._last_sweep < 1.0:
            return []
        self._last_sweep = now
        expired = []
        with self._lock:
            for sid, s in list(self._sessions.items()):
                if s.finished:
                    if now - s.finished_at > self._retention_s:
                        del self._sessions[sid]
                elif now - s.last_heartbeat > self._timeout_s:
                    s.finished, s.finished_at = "expired", now
                    expired.append(sid)
            self._forget_finished(2 * self._max)
        if self.on_finish is not None:
            for sid in expired:
                self.on_finish(sid)
        return expired

    def _forget_finished(self, keep: int) -> None:
        # Called with the lock held: beyond ``keep`` entries, the oldest finished sessions go first.
        extra = len(self._sessions) - keep
        if extra > 0:
            for sid in [k for k, v in self._sessions.items() if v.finished][:extra]:
                del self._sessions[sid]

    def _visible(self, session_id: object) -> Session | None:
        # Called with the lock held.
        s = self._sessions.get(session_id) if isinstance(session_id, str) else None
        return s if s is not None and auth.may_see(s.owner) else None

    def get(self, session_id: object) -> Session | None:
        with self._lock:
            return self._visible(session_id)

    def heartbeat(self, session_id: str) -> Session | None:
        with self._lock:
            s = self._visible(session_id)
            if s is not None and not s.finished:
                s.last_heartbeat = time.time()
            return s

    def touch(self, session_id: str) -> None:
        """Activity on a session's models or samplers counts as a heartbeat."""
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None and not s.finished:
                s.last_heartbeat = time.time()

    def finish(self, session_id: str, reason: str) -> Session | None:
        with self._lock:
            s = self._visible(session_id)
            if s is not None and not s.finished:
                s.finished, s.finished_at = reason, time.time()
            return s

    def all(self, everyone: bool = False) -> list[Session]:
        """The current user's sessions (``everyone``: all of them, for the server's own bookkeeping)."""
        with self._lock:
            items = (
                list(self._sessions.values())
                if everyone
                else [s for s in self._sessions.values() if auth.may_see(s.owner)]
            )
        return sorted(items, key=lambda s: s.created)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def add_model(self, session_id: str, model_id: str) -> None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None and model_id not in s.model_ids:
                s.model_ids.append(model_id)

    def add_sampler(self, session_id: str, sampler_id: str) -> None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None and sampler_id not in s.sampler_ids:
                s.sampler_ids.append(sampler_id)
