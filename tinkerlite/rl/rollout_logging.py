"""Rollout summaries as JSON records (the cookbook's ``rl.rollout_logging``), one per trajectory.

Schema (``schema_version`` 1): ``split``, ``iteration``, ``group_idx``, ``traj_idx``, ``tags``,
``sampling_client_step``, ``total_reward``, ``final_reward``, ``trajectory_metrics``, ``final_ob_len`` and
``steps`` (``step_idx``, ``ob_len``, ``ac_len``, ``reward``, ``episode_done``, ``metrics``, ``logs``). Values
that JSON cannot hold (numpy scalars, objects) are converted (``.item()``) or stringified.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .types import TrajectoryGroup

__all__ = [
    "RolloutSummaryExportConfig",
    "RolloutSummaryGroup",
    "rollout_summaries_jsonl_path",
    "serialize_rollout_summaries",
    "serialize_rollout_summaries_from_groups",
    "write_rollout_summaries_jsonl",
    "write_rollout_summaries_jsonl_from_groups",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolloutSummaryExportConfig:
    """Where one export goes: split name, iteration, file prefix (``<base_name>_rollout_summaries.jsonl``)."""

    split: str
    iteration: int
    base_name: str
    sampling_client_step: int | None = None


@dataclass(frozen=True)
class RolloutSummaryGroup:
    """A trajectory group with its tags and the sampling client's step."""

    trajectory_group: TrajectoryGroup
    tags: list[str]
    sampling_client_step: int | None = None


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except Exception:  # not a scalar: fall through to str
            logger.debug("Failed to convert %r via .item(), falling back to str()", type(value))
    return str(value)


def serialize_rollout_summaries(
    *,
    split: str,
    iteration: int,
    trajectory_groups_P: Sequence[TrajectoryGroup],
    taglist_P: Sequence[list[str]],
    sampling_client_steps_P: Sequence[int | None] | None = None,
) -> list[dict[str, Any]]:
    """One JSON-safe record per trajectory (see the module docstring)."""
    records: list[dict[str, Any]] = []
    for g, (group, tags) in enumerate(zip(trajectory_groups_P, taglist_P, strict=True)):
        totals = group.get_total_rewards()
        step = sampling_client_steps_P[g] if sampling_client_steps_P is not None else None
        for t, traj in enumerate(group.trajectories_G):
            steps = [
                {
                    "step_idx": i,
                    "ob_len": tr.ob.length,
                    "ac_len": len(tr.ac.tokens),
                    "reward": tr.reward,
                    "episode_done": tr.episode_done,
                    "metrics": tr.metrics,
                    "logs": tr.logs,
                }
                for i, tr in enumerate(traj.transitions)
            ]
            records.append(
                _json_safe(
                    {
                        "schema_version": 1,
                        "split": split,
                        "iteration": iteration,
                        "group_idx": g,
                        "traj_idx": t,
                        "tags": list(tags),
                        "sampling_client_step": step,
                        "total_reward": totals[t],
                        "final_reward": group.final_rewards_G[t],
                        "trajectory_metrics": group.metrics_G[t],
                        "steps": steps,
                        "final_ob_len": traj.final_ob.length,
                    }
                )
            )
    return records


def write_rollout_summaries_jsonl(
    path: str | Path,
    *,
    split: str,
    iteration: int,
    trajectory_groups_P: Sequence[TrajectoryGroup],
    taglist_P: Sequence[list[str]],
    sampling_client_steps_P: Sequence[int | None] | None = None,
) -> None:
    """Deprecated in the cookbook (use :func:`serialize_rollout_summaries` + a store); writes the records."""
    warnings.warn(
        "Use serialize_rollout_summaries() + store.write_rollouts() instead.", DeprecationWarning, stacklevel=2
    )
    records = serialize_rollout_summaries(
        split=split,
        iteration=iteration,
        trajectory_groups_P=trajectory_groups_P,
        taglist_P=taglist_P,
        sampling_client_steps_P=sampling_client_steps_P,
    )
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def rollout_summaries_jsonl_path(iteration_dir: Path, base_name: str) -> Path:
    return iteration_dir / f"{base_name}_rollout_summaries.jsonl"


def serialize_rollout_summaries_from_groups(
    *, split: str, iteration: int, groups_P: Sequence[RolloutSummaryGroup]
) -> list[dict[str, Any]]:
    return serialize_rollout_summaries(
        split=split,
        iteration=iteration,
        trajectory_groups_P=[g.trajectory_group for g in groups_P],
        taglist_P=[g.tags for g in groups_P],
        sampling_client_steps_P=[g.sampling_client_step for g in groups_P],
    )


def write_rollout_summaries_jsonl_from_groups(
    path: Path, *, split: str, iteration: int, groups_P: Sequence[RolloutSummaryGroup]
) -> None:
    write_rollout_summaries_jsonl(
        path,
        split=split,
        iteration=iteration,
        trajectory_groups_P=[g.trajectory_group for g in groups_P],
        taglist_P=[g.tags for g in groups_P],
        sampling_client_steps_P=[g.sampling_client_step for g in groups_P],
    )
