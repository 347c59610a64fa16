"""The holder's two background threads: its private event loop, and the session heartbeat."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING

from . import headers as hdr

if TYPE_CHECKING:
    from .holder import Holder

logger = logging.getLogger("tinkerlite.client")

HEARTBEAT_PERIOD_S = 10.0
HEARTBEAT_TIMEOUT_S = 10.0
HEARTBEAT_WARN_AFTER_S = 120.0


class LoopThread:
    """A private event loop on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="tinkerlite-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Stopped with work in flight (close() after Ctrl-C, or an error): cancel it and let it unwind, so
        # nothing is left pending ("Task was destroyed but it is pending!" at exit).
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.wait(pending, timeout=2.0))

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)


def heartbeat_loop(holder: Holder) -> None:
    """The session heartbeat thread: POST every period; warn (once per 2 min) while it keeps failing."""
    session_id = holder.session_id
    body = json.dumps({"session_id": session_id, "type": "session_heartbeat"}).encode()
    warned_at = 0.0
    while not holder._heartbeat_stop.wait(holder.heartbeat_period_s):
        try:
            headers = holder.build_headers(
                "POST",
                idempotency_key=hdr.new_idempotency_key(),
                retry_count=0,
                timeout=HEARTBEAT_TIMEOUT_S,
                content_type=hdr.JSON,
                extra=None,
                use_jwt=True,
            )
            resp = holder.transport.request(
                "POST", holder.url("/api/v1/session_heartbeat"), headers, body, HEARTBEAT_TIMEOUT_S
            )
            if resp.status_code == 410:
                logger.info("Session %s has finished; stopping its heartbeat.", session_id)
                return
            if 200 <= resp.status_code < 300:
                holder.last_heartbeat_ok = holder.clock()
                continue
            failure = f"HTTP {resp.status_code}"
        except Exception as e:
            failure = f"{type(e).__name__}: {e}"
        since = holder.clock() - (holder.last_heartbeat_ok or holder.clock())
        if since > HEARTBEAT_WARN_AFTER_S and holder.clock() - warned_at > HEARTBEAT_WARN_AFTER_S:
            warned_at = holder.clock()
            logger.warning(
                "Session heartbeat failing for %.0f s for session %s (last: %s). The connection may be "
                "unreliable or the server down; the session may be terminated.",
                since,
                session_id,
                failure,
            )
