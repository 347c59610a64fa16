"""Client sessions: ids, heartbeats, finish, and which models and samplers each session owns."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

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


class SessionRegistry:
    def __init__(self, max_sessions: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._max = max_sessions

    def create(self, tags: list[str], user_metadata: dict[str, Any], display_name: str | None) -> Session:
        now = time.time()
        s = Session(uuid.uuid4().hex[:16], now, tags, user_metadata, display_name, now)
        with self._lock:
            if len(self._sessions) >= self._max:
                # Forget the oldest finished sessions first; live ones are never dropped.
                finished = [k for k, v in self._sessions.items() if v.finished]
                for k in finished[: max(1, len(finished) // 2)]:
                    del self._sessions[k]
            self._sessions[s.session_id] = s
        return s

    def get(self, session_id: object) -> Session | None:
        if not isinstance(session_id, str):
            return None
        with self._lock:
            return self._sessions.get(session_id)

    def heartbeat(self, session_id: str) -> Session | None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None and not s.finished:
                s.last_heartbeat = time.time()
            return s

    def finish(self, session_id: str, reason: str) -> Session | None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None and not s.finished:
                s.finished = reason
            return s

    def all(self) -> list[Session]:
        with self._lock:
            return sorted(self._sessions.values(), key=lambda s: s.created)

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
