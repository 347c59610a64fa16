"""Rollout summaries as JSON records (the cookbook's ``rl.rollout_logging``), one per trajectory.

Schema (``schema_version`` 1): ``split``, ``iteration``, ``group_idx``, ``traj_idx``, ``tags``,
``sampling_client_step``, ``total_reward``, ``final_reward``, ``trajectory_metrics``, ``final_ob_len`` and
``steps`` (``step_idx``, ``ob_len``, ``ac_len``, ``reward``, ``episode_done``, ``metrics``, ``logs``). Values
that JSON cannot hold (numpy scalars, objects) are converted (``.item()``) or stringified.

:func:`export_iteration_rollouts` is what the RL loops call per step: it writes, under
``log_path/iteration_NNNNNN/``, the cookbook's ``<base_name>_rollout_summaries.jsonl``, the logtree transcript
(``<base_name>.html`` + ``<base_name>_logtree.json``) and tinkerlite's token sidecar
``<base_name>_rollout_tokens.jsonl`` (the cookbook's summaries hold lengths, not tokens; the sidecar lets
``tinkerlite view`` colour each sampled token by its logprob). Sidecar schema
(``schema`` ``"tinkerlite.rollout_tokens/1"``), one line per trajectory: ``split``, ``iteration``,
``group_idx``, ``traj_idx``, ``tags``, ``sampling_client_step``, ``total_reward``, ``final_reward``,
``advantage``, ``stop_reason`` and ``turns`` (``turn_idx``, ``ob_tokens`` (null for an image chunk's slots),
``ob_text``, ``ac_tokens``, ``ac_logprobs`` (null when the sampler returned none), ``ac_pieces`` (each action
token decoded alone), ``reward``, ``episode_done``). Text fields are null when no tokenizer was at hand. Every
file is written whole and atomically, so a step re-run after a resume replaces its files, never appends.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..utils import logtree
from ..utils.files import atomic_write_bytes
from .types import Trajectory, TrajectoryGroup

__all__ = [
    "TOKENS_SCHEMA",
    "RolloutSummaryExportConfig",
    "RolloutSummaryGroup",
    "decoder_from_client",
    "export_iteration_rollouts",
    "rollout_summaries_jsonl_path",
    "rollout_tokens_jsonl_path",
    "serialize_rollout_summaries",
    "serialize_rollout_summaries_from_groups",
    "serialize_rollout_tokens",
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


TOKENS_SCHEMA = "tinkerlite.rollout_tokens/1"
_LOGTREE_NOTE = (
    "This HTML log was generated by logtree during RL training. It shows rollouts and rewards for a subset "
    "of trajectory groups in this iteration."
)


def rollout_tokens_jsonl_path(iteration_dir: Path, base_name: str) -> Path:
    """tinkerlite's token sidecar next to the cookbook's summaries (see the module docstring)."""
    return iteration_dir / f"{base_name}_rollout_tokens.jsonl"


def _ob_tokens(ob: Any) -> list[int | None]:
    out: list[int | None] = []
    for chunk in ob.chunks:
        tokens = getattr(chunk, "tokens", None)
        if tokens is not None:
            out.extend(int(t) for t in tokens)
        else:  # an image: its slots have no token ids
            out.extend([None] * int(chunk.length))
    return out


def _decode(decode: Callable[[list[int]], str] | None, tokens: Sequence[int | None]) -> str | None:
    if decode is None:
        return None
    try:
        return decode([t for t in tokens if t is not None])
    except Exception:  # a tokenizer that cannot decode these ids: leave the text out, keep the ids
        return None


def _turns(traj: Trajectory, decode: Callable[[list[int]], str] | None) -> list[dict[str, Any]]:
    turns = []
    for i, tr in enumerate(traj.transitions):
        ob = _ob_tokens(tr.ob)
        ac = [int(t) for t in tr.ac.tokens]
        lps = tr.ac.maybe_logprobs
        turns.append(
            {
                "turn_idx": i,
                "ob_tokens": ob,
                "ob_text": _decode(decode, ob),
                "ac_tokens": ac,
                "ac_logprobs": [float(x) for x in lps] if lps is not None else None,
                "ac_pieces": [_decode(decode, [t]) for t in ac] if decode is not None else None,
                "reward": tr.reward,
                "episode_done": tr.episode_done,
            }
        )
    return turns


def serialize_rollout_tokens(
    *,
    split: str,
    iteration: int,
    groups_P: Sequence[RolloutSummaryGroup],
    decode: Callable[[list[int]], str] | None = None,
) -> list[dict[str, Any]]:
    """One sidecar record per trajectory: per-turn tokens, sampled logprobs, text, reward and advantage."""
    records: list[dict[str, Any]] = []
    for g, grp in enumerate(groups_P):
        group = grp.trajectory_group
        totals = group.get_total_rewards()
        mean = sum(totals) / len(totals) if totals else 0.0
        for t, traj in enumerate(group.trajectories_G):
            records.append(
                _json_safe(
                    {
                        "schema": TOKENS_SCHEMA,
                        "split": split,
                        "iteration": iteration,
                        "group_idx": g,
                        "traj_idx": t,
                        "tags": list(grp.tags),
                        "sampling_client_step": grp.sampling_client_step,
                        "total_reward": totals[t],
                        "final_reward": group.final_rewards_G[t],
                        "advantage": totals[t] - mean,
                        "stop_reason": traj.stop_reason,
                        "turns": _turns(traj, decode),
                    }
                )
            )
    return records


def _jsonl_bytes(records: Sequence[dict[str, Any]]) -> bytes:
    # The cookbook store's layout: one json.dumps per line, a final newline, an empty file for no records.
    lines = [json.dumps(r) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _log_transcripts(groups_P: Sequence[RolloutSummaryGroup], tokens: list[dict[str, Any]]) -> None:
    by_group: dict[int, list[dict[str, Any]]] = {}
    for rec in tokens:
        by_group.setdefault(rec["group_idx"], []).append(rec)
    logtree.log_text(_LOGTREE_NOTE)
    for g, grp in enumerate(groups_P):
        with logtree.scope_header(f"Group Rollout {g}" + (f" ({', '.join(grp.tags)})" if grp.tags else "")):
            for rec in by_group.get(g, []):
                with logtree.scope_header(f"Trajectory {rec['traj_idx']} Episode"):
                    for turn in rec["turns"]:
                        with logtree.scope_header(f"Turn {turn['turn_idx']}"):
                            ob = turn["ob_text"] if turn["ob_text"] is not None else turn["ob_tokens"]
                            pieces = turn["ac_pieces"]
                            ac = "".join(p or "" for p in pieces) if pieces is not None else turn["ac_tokens"]
                            logtree.table_from_dict(
                                {
                                    "observation": ob,
                                    "action": ac,
                                    "reward": turn["reward"],
                                    "episode_done": turn["episode_done"],
                                }
                            )
                    logtree.table_from_dict(
                        {"total_reward": rec["total_reward"], "advantage": rec["advantage"]}, caption="Episode"
                    )


def export_iteration_rollouts(
    log_path: str | Path,
    *,
    iteration: int,
    groups_P: Sequence[RolloutSummaryGroup],
    split: str = "train",
    base_name: str = "train",
    json_export: bool = True,
    num_groups_to_log: int = 4,
    decode: Callable[[list[int]], str] | None = None,
    title: str | None = None,
) -> None:
    """Write one iteration's rollout files under ``log_path/iteration_NNNNNN`` (see the module docstring).

    ``json_export`` (the config's ``rollout_json_export``) gates the summaries and the token sidecar, and
    ``num_groups_to_log`` the logtree transcript of the first groups (titled ``title``, by default the
    cookbook's ``RL Iteration N``), as in the cookbook.
    """
    if not json_export and num_groups_to_log <= 0:
        return
    iter_dir = Path(log_path) / f"iteration_{iteration:06d}"
    tokens = serialize_rollout_tokens(split=split, iteration=iteration, groups_P=groups_P, decode=decode)
    if json_export:
        summaries = serialize_rollout_summaries_from_groups(split=split, iteration=iteration, groups_P=groups_P)
        atomic_write_bytes(rollout_summaries_jsonl_path(iter_dir, base_name), _jsonl_bytes(summaries))
        atomic_write_bytes(rollout_tokens_jsonl_path(iter_dir, base_name), _jsonl_bytes(tokens))
    if num_groups_to_log > 0:
        shown = list(groups_P[:num_groups_to_log])
        with logtree.init_trace(title or f"RL Iteration {iteration}", path=None) as trace:
            _log_transcripts(shown, [r for r in tokens if r["group_idx"] < len(shown)])
        atomic_write_bytes(iter_dir / f"{base_name}.html", trace.to_html().encode("utf-8"))
        atomic_write_bytes(
            iter_dir / f"{base_name}_logtree.json", json.dumps(_json_safe(trace.to_dict()), indent=2).encode("utf-8")
        )


def decoder_from_client(training_client: Any) -> Callable[[list[int]], str] | None:
    """``tokenizer.decode`` of the run's model for the transcripts, or None (ids only) when none loads."""
    try:
        tokenizer = training_client.get_tokenizer()
    except Exception as e:  # no tokenizer offline, or a client without one: the files keep token ids
        logger.warning("rollout transcripts will hold token ids only: no tokenizer (%s: %s)", type(e).__name__, e)
        return None
    decode: Callable[[list[int]], str] = tokenizer.decode
    return decode
