"""tinkerlite's RL checkpointer behind the cookbook's ``CheckpointManager`` calls.

The cookbook's step functions (:mod:`._train_steps`) ask ``checkpoint_mgr.should_save_periodic(step)`` and
``await checkpoint_mgr.save_periodic_async(step=, loop_state=)``. tinkerlite's runs answer them with this
adapter over :class:`~tinkerlite.checkpoint_utils._StepCheckpointer`: the save is submitted and its sampler
path awaited, but the checkpoint *record* is appended only after the step's metrics row is logged
(:meth:`flush`), so a crash between the two re-runs the step instead of skipping its row; and the last
step saves no periodic checkpoint, since the final one follows at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..checkpoint_utils import CheckpointRecord, PendingSave, _StepCheckpointer


class LoopCheckpointer:
    """``should_save_periodic`` / ``save_periodic_async`` / ``maybe_save_rolling_async`` /
    ``save_final_async`` / ``finalize_async`` as the loops call them, with records deferred to :meth:`flush`."""

    def __init__(self, inner: _StepCheckpointer, total_steps: int) -> None:
        self.inner = inner
        self.total_steps = total_steps
        self._pending: list[PendingSave] = []

    def should_save_periodic(self, step: int, *, elapsed_tokens: int = 0) -> bool:
        return self.inner.should_save(step) and step < self.total_steps

    async def save_periodic_async(self, step: int, loop_state: dict[str, Any]) -> dict[str, str]:
        pending = self.inner.submit_periodic(step, {**loop_state, "step": step})
        saved = await asyncio.to_thread(pending.futures["sampler"].result)
        self._pending.append(pending)
        return {"sampler_path": saved.path}

    async def maybe_save_rolling_async(self, step: int, loop_state: dict[str, Any]) -> None:
        """Rolling saves are refused by the config (``rolling_save_every`` must be 0)."""

    async def flush(self) -> None:
        """Append the records of the saves submitted so far (call after the step's metrics row)."""
        pending, self._pending = self._pending, []
        for p in pending:
            await asyncio.to_thread(p.finish)

    async def save_final_async(self, loop_state: dict[str, Any]) -> dict[str, str]:
        await self.flush()
        rec: CheckpointRecord = await asyncio.to_thread(self.inner.save_final, loop_state)
        return {k: v for k, v in (("state_path", rec.state_path), ("sampler_path", rec.sampler_path)) if v}

    async def finalize_async(self) -> None:
        await self.flush()
