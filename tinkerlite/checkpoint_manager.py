"""The cookbook's ``CheckpointManager``: periodic, rolling and final checkpoints for user training loops.

Re-exported as :class:`tinkerlite.checkpoint_utils.CheckpointManager` (the cookbook's path), so a ported
loop that builds ``CheckpointManager(training_client=..., service_client=..., log_path=..., ...)`` runs
unchanged. tinkerlite's own loops use the pipelined ``checkpoint_utils._StepCheckpointer`` instead, which
records the exact resume position of a save submitted ahead of earlier results.

* **periodic**: state + sampler every ``save_every`` steps / ``save_every_tokens`` tokens /
  ``save_every_seconds`` seconds, kept ``ttl_seconds``; with ``async_periodic_saves`` the async save runs
  as a background task whose record is written when it completes;
* **rolling**: state only, every ``rolling_save_every`` steps (skipped on a periodic step), kept
  ``rolling_ttl_seconds``; the previous rolling checkpoint is deleted once the next one is saved, so at
  most one exists (the TTL cleans up if a delete fails);
* **final**: state + sampler with no TTL, after every pending save is recorded, then the last rolling
  checkpoint is deleted.

A failed rolling or background save is logged and training goes on (a resume uses an earlier record).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .checkpoint_utils import save_checkpoint, save_checkpoint_async

__all__ = ["CheckpointManager"]

logger = logging.getLogger("tinkerlite.checkpoint_utils")


class CheckpointManager:
    """Periodic, rolling and final checkpoints with the cookbook 0.6.1 constructor and methods."""

    def __init__(
        self,
        training_client: Any,
        service_client: Any,
        log_path: str,
        save_every: int = 0,
        save_every_tokens: int = 0,
        save_every_seconds: float = 0.0,
        ttl_seconds: int | None = 604800,
        rolling_save_every: int = 0,
        rolling_ttl_seconds: int = 7200,
        store: Any | None = None,
        async_periodic_saves: bool = False,
    ) -> None:
        self._training_client = training_client
        self._service_client = service_client
        self._log_path = log_path
        self._save_every = save_every
        self._save_every_tokens = save_every_tokens
        self._save_every_seconds = save_every_seconds
        self._ttl_seconds = ttl_seconds
        self._rolling_save_every = rolling_save_every
        self._rolling_ttl_seconds = rolling_ttl_seconds
        self._store = store
        self._async_periodic_saves = async_periodic_saves
        self._pending_rolling_task: asyncio.Task[None] | None = None
        self._pending_periodic_task: asyncio.Task[dict[str, str]] | None = None
        self._prev_state_path: str | None = None
        self._last_saved_tokens = 0
        self._last_saved_wall_time = time.perf_counter()

    # ---- periodic ----------------------------------------------------------------------------------

    def restore_last_saved_tokens(self, last_saved_tokens: int) -> None:
        """On resume: the token count at the last periodic save, so ``save_every_tokens`` keeps its cadence."""
        self._last_saved_tokens = last_saved_tokens

    def should_save_periodic(self, step: int, *, elapsed_tokens: int = 0) -> bool:
        """Whether ``step``, the tokens since the last save, or the time since it calls for a periodic save."""
        if step <= 0:
            return False
        on_step = self._save_every > 0 and step % self._save_every == 0
        on_tokens = (
            self._save_every_tokens > 0 and elapsed_tokens - self._last_saved_tokens >= self._save_every_tokens
        )
        on_seconds = (
            self._save_every_seconds > 0
            and time.perf_counter() - self._last_saved_wall_time >= self._save_every_seconds
        )
        return on_step or on_tokens or on_seconds

    def _periodic_args(self, step: int, loop_state: dict[str, Any]) -> dict[str, Any]:
        return {
            "training_client": self._training_client,
            "name": f"{step:06d}",
            "log_path": self._log_path,
            "loop_state": loop_state,
            "kind": "both",
            "ttl_seconds": self._ttl_seconds,
            "store": self._store,
        }

    async def save_periodic_async(self, step: int, loop_state: dict[str, Any]) -> dict[str, str]:
        """Save state + sampler now (named ``f"{step:06d}"``); returns their paths."""
        return await save_checkpoint_async(**self._periodic_args(step, loop_state))

    def save_periodic(self, step: int, loop_state: dict[str, Any]) -> dict[str, str]:
        """Synchronous :meth:`save_periodic_async`."""
        return save_checkpoint(**self._periodic_args(step, loop_state))

    def _mark_saved(self, elapsed_tokens: int) -> None:
        self._last_saved_tokens = elapsed_tokens
        self._last_saved_wall_time = time.perf_counter()

    # ---- rolling -----------------------------------------------------------------------------------

    def _should_save_rolling(self, step: int) -> bool:
        if self._rolling_save_every <= 0 or step <= 0 or step % self._rolling_save_every != 0:
            return False
        return not (self._save_every > 0 and step % self._save_every == 0)

    def _rolling_args(self, step: int, loop_state: dict[str, Any]) -> dict[str, Any]:
        return {
            "training_client": self._training_client,
            "name": f"{step:06d}",
            "log_path": self._log_path,
            "loop_state": {**loop_state, "rolling": True},
            "kind": "state",
            "ttl_seconds": self._rolling_ttl_seconds,
            "store": self._store,
        }

    async def _do_rolling_save_async(self, step: int, loop_state: dict[str, Any]) -> None:
        paths = await save_checkpoint_async(**self._rolling_args(step, loop_state))
        await self._delete_prev_async()
        self._prev_state_path = paths.get("state_path")

    async def maybe_save_rolling_async(self, step: int, loop_state: dict[str, Any]) -> None:
        """Wait for the previous rolling save, then start one in the background if ``step`` is due."""
        await self._resolve_pending_rolling_async()
        if self._should_save_rolling(step):
            self._pending_rolling_task = asyncio.create_task(
                self._do_rolling_save_async(step, loop_state), name=f"rolling_checkpoint_{step:06d}"
            )

    def maybe_save_rolling(self, step: int, loop_state: dict[str, Any]) -> None:
        """Synchronous :meth:`maybe_save_rolling_async`: blocks on the save; a failure is only logged."""
        if not self._should_save_rolling(step):
            return
        try:
            paths = save_checkpoint(**self._rolling_args(step, loop_state))
        except Exception:  # a rolling save must never end the run
            logger.warning("Rolling checkpoint save failed", exc_info=True)
            return
        self._delete_prev()
        self._prev_state_path = paths.get("state_path")

    # ---- periodic + rolling in one call --------------------------------------------------------------

    async def maybe_save_async(
        self, step: int, loop_state: dict[str, Any], *, elapsed_tokens: int = 0
    ) -> dict[str, str] | None:
        """Periodic save if due (its paths returned; ``None`` when it runs in the background), then rolling."""
        result: dict[str, str] | None = None
        if self.should_save_periodic(step, elapsed_tokens=elapsed_tokens):
            if self._async_periodic_saves:
                await self._resolve_pending_periodic_async()
                self._pending_periodic_task = asyncio.create_task(
                    self.save_periodic_async(step, loop_state), name=f"periodic_checkpoint_{step:06d}"
                )
            else:
                result = await self.save_periodic_async(step, loop_state)
            self._mark_saved(elapsed_tokens)
        await self.maybe_save_rolling_async(step, loop_state)
        return result

    def maybe_save(
        self, step: int, loop_state: dict[str, Any], *, elapsed_tokens: int = 0
    ) -> dict[str, str] | None:
        """Synchronous :meth:`maybe_save_async` (periodic saves always block here)."""
        result: dict[str, str] | None = None
        if self.should_save_periodic(step, elapsed_tokens=elapsed_tokens):
            result = self.save_periodic(step, loop_state)
            self._mark_saved(elapsed_tokens)
        self.maybe_save_rolling(step, loop_state)
        return result

    # ---- final ---------------------------------------------------------------------------------------

    def _final_args(self, loop_state: dict[str, Any]) -> dict[str, Any]:
        return {
            "training_client": self._training_client,
            "name": "final",
            "log_path": self._log_path,
            "loop_state": loop_state,
            "kind": "both",
            "ttl_seconds": None,
            "store": self._store,
        }

    async def save_final_async(self, loop_state: dict[str, Any]) -> dict[str, str]:
        """Record pending saves first, save ``final`` with no TTL, then delete the last rolling checkpoint."""
        await self._resolve_pending_periodic_async()
        await self._resolve_pending_rolling_async()
        paths = await save_checkpoint_async(**self._final_args(loop_state))
        await self.finalize_async()
        return paths

    def save_final(self, loop_state: dict[str, Any]) -> dict[str, str]:
        """Synchronous :meth:`save_final_async`."""
        paths = save_checkpoint(**self._final_args(loop_state))
        self.finalize()
        return paths

    async def finalize_async(self) -> None:
        """Wait for pending saves, then delete the last rolling checkpoint (when the final save is made elsewhere)."""
        await self._resolve_pending_periodic_async()
        await self._resolve_pending_rolling_async()
        await self._delete_prev_async()

    def finalize(self) -> None:
        """Synchronous :meth:`finalize_async`."""
        self._delete_prev()

    # ---- internals -----------------------------------------------------------------------------------

    async def _resolve_pending_rolling_async(self) -> None:
        task, self._pending_rolling_task = self._pending_rolling_task, None
        if task is not None:
            try:
                await task
            except Exception:  # logged, the run goes on
                logger.warning("Rolling checkpoint save failed", exc_info=True)

    async def _resolve_pending_periodic_async(self) -> None:
        task, self._pending_periodic_task = self._pending_periodic_task, None
        if task is not None:
            try:
                await task
            except Exception:  # logged, the run goes on
                logger.warning("Background periodic checkpoint save failed", exc_info=True)

    def _deletion_failed(self) -> None:
        logger.warning(
            "Failed to delete rolling checkpoint %s (TTL will clean up)", self._prev_state_path, exc_info=True
        )

    async def _delete_prev_async(self) -> None:
        if self._prev_state_path is None:
            return
        try:
            rest = self._service_client.create_rest_client()
            await rest.delete_checkpoint_from_tinker_path(self._prev_state_path)
            logger.info("Deleted rolling checkpoint %s", self._prev_state_path)
        except Exception:  # the short TTL is the safety net
            self._deletion_failed()
        self._prev_state_path = None

    def _delete_prev(self) -> None:
        if self._prev_state_path is None:
            return
        try:
            rest = self._service_client.create_rest_client()
            rest.delete_checkpoint_from_tinker_path(self._prev_state_path).result()
            logger.info("Deleted rolling checkpoint %s", self._prev_state_path)
        except Exception:  # the short TTL is the safety net
            self._deletion_failed()
        self._prev_state_path = None
