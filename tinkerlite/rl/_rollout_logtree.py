"""What a group rollout writes into the open logtree transcript, as the cookbook's ``rl.rollouts`` does:
per trajectory, each turn's lengths and step reward, the env's step metrics and logs, and the episode totals.

With no trace open (or logging disabled for the group) nothing is built. tinkerlite's runs also set
:data:`TRANSCRIPT_DECODER` (the run's ``tokenizer.decode``), and each turn then shows its decoded
observation and action too.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from ..types import EncodedTextChunk
from ..utils import logtree
from .types import Trajectory, Transition

TRANSCRIPT_DECODER: ContextVar[Callable[[list[int]], str] | None] = ContextVar(
    "tinkerlite_rl_transcript_decoder", default=None
)
"""The decoder for each turn's text in the transcript (None: the cookbook's lengths only)."""


def _log_turn_text(t: Transition, decode: Callable[[list[int]], str]) -> None:
    parts: list[str] = []
    for chunk in t.ob.chunks:
        parts.append(
            decode(list(chunk.tokens)) if isinstance(chunk, EncodedTextChunk) else f"<{chunk.length} image tokens>"
        )
    logtree.table_from_dict({"observation": "".join(parts), "action": decode(list(t.ac.tokens))}, caption="Transcript")


def _log_transition_logs(logs: dict[str, Any]) -> None:
    if not logs:
        return
    with logtree.scope_header("Diagnostics"):
        for key, value in logs.items():
            text = str(value)
            if "\n" in text or len(text) > 120:
                logtree.details(text, summary=key, pre=True)
            else:
                logtree.log_text(f"{key}: {text}")


def _log_transition_metrics(metrics: dict[str, Any] | None) -> None:
    if not metrics:
        return
    formatted = {k: f"{float(v):.3f}" if isinstance(v, numbers.Real) else str(v) for k, v in metrics.items()}
    with logtree.scope_header("Step Metrics"):
        logtree.table_from_dict(formatted, caption="Metrics emitted by env.step")


def _log_single_trajectory_details(traj: Trajectory, final_reward: float) -> None:
    decode = TRANSCRIPT_DECODER.get()
    with logtree.scope_header("Episode Details"):
        for turn_idx, t in enumerate(traj.transitions, start=1):
            with logtree.scope_header(f"Turn {turn_idx}"):
                logtree.table_from_dict(
                    {"ob_len": t.ob.length, "ac_len": len(t.ac.tokens), "step_reward": f"{t.reward:.3f}"},
                    caption="Step stats",
                )
                if decode is not None:
                    _log_turn_text(t, decode)
                _log_transition_metrics(t.metrics)
                _log_transition_logs(t.logs)
        step_sum = sum(t.reward for t in traj.transitions)
        logtree.table_from_dict(
            {
                "num_turns": len(traj.transitions),
                "final_ob_len": traj.final_ob.length,
                "sum_step_rewards": f"{step_sum:.3f}",
                "final_group_reward": f"{final_reward:.3f}",
                "total_return": f"{step_sum + final_reward:.3f}",
            },
            caption="Episode totals",
        )


def log_trajectory_details(trajectories: Sequence[Trajectory], final_rewards: Sequence[float]) -> None:
    """The cookbook's ``Trajectory Details`` section of a ``Group Rollout``."""
    if not logtree._enabled():
        return
    with logtree.scope_header("Trajectory Details"):
        for i, (traj, reward) in enumerate(zip(trajectories, final_rewards, strict=True)):
            with logtree.scope_header(f"Trajectory {i} Episode"):
                _log_single_trajectory_details(traj, reward)
