"""Per-turn transcripts of one RL iteration, from tinkerlite's token sidecar
(``iteration_NNNNNN/<split>_rollout_tokens.jsonl``, see :mod:`tinkerlite.rl.rollout_logging`).

The cookbook's own rollout summaries hold lengths and rewards only; the sidecar adds each turn's observation
and action tokens with the sampled logprobs, which the page colours token by token. The reader streams the
file line by line and keeps at most ``limit`` trajectories, each turn's observation cut to its last
``max_ob_tokens`` tokens, so an iteration of any size is read in bounded memory.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .runs import iter_jsonl

__all__ = ["TOKENS_SUFFIX", "read_rollout_transcripts"]

TOKENS_SUFFIX = "_rollout_tokens.jsonl"
_SPLIT = re.compile(r"^[A-Za-z0-9_.-]+$")


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _turn(turn: dict[str, Any], max_ob_tokens: int) -> dict[str, Any]:
    ac = turn.get("ac_tokens") or []
    lps = turn.get("ac_logprobs") or [None] * len(ac)
    pieces = turn.get("ac_pieces") or [None] * len(ac)
    ob = turn.get("ob_tokens") or []
    text = turn.get("ob_text")
    cut = max(0, len(ob) - max_ob_tokens)
    if text is None:
        text = " ".join("#" + str(t) for t in ob[cut:])
    elif cut:
        text = text[-max_ob_tokens * 8 :]
    return {
        "turn_idx": turn.get("turn_idx"),
        "ob_text": text,
        "ob_len": len(ob),
        "ob_cut": cut,
        "reward": turn.get("reward"),
        "episode_done": turn.get("episode_done"),
        "ac": [
            {"id": t, "t": p if isinstance(p, str) else f"#{t}", "lp": _num(lp)}
            for t, lp, p in zip(ac, lps, pieces, strict=False)
        ],
    }


def read_rollout_transcripts(
    run_dir: str,
    iteration: int,
    split: str = "train",
    min_reward: float | None = None,
    max_reward: float | None = None,
    limit: int = 64,
    max_ob_tokens: int = 2048,
) -> dict[str, Any]:
    """The trajectories of one iteration whose total reward is in [min_reward, max_reward], with per-turn
    text and per-token logprobs; ``matched`` counts all that passed the filter, ``trajs`` holds the first
    ``limit``."""
    out: dict[str, Any] = {"iteration": iteration, "split": split, "trajs": [], "matched": 0, "truncated": False}
    if not _SPLIT.match(split):
        return {**out, "available": False, "reason": f"{split!r}: not a split name"}
    path = os.path.join(run_dir, f"iteration_{iteration:06d}", split + TOKENS_SUFFIX)
    if not os.path.isfile(path):
        return {
            **out,
            "available": False,
            "reason": f"no {os.path.basename(path)} for iteration {iteration} (tinkerlite's rl loop writes it "
            "with rollout_json_export on; the cookbook's own loop writes summaries only, without tokens)",
        }
    lo = -float("inf") if min_reward is None else min_reward
    hi = float("inf") if max_reward is None else max_reward
    for _, rec in iter_jsonl(path):
        reward = _num(rec.get("total_reward"))
        if reward is None or not lo <= reward <= hi:
            continue
        out["matched"] += 1
        if len(out["trajs"]) >= limit:
            out["truncated"] = True
            continue
        out["trajs"].append(
            {
                "group_idx": rec.get("group_idx"),
                "traj_idx": rec.get("traj_idx"),
                "tags": rec.get("tags") or [],
                "total_reward": reward,
                "advantage": _num(rec.get("advantage")),
                "sampling_client_step": rec.get("sampling_client_step"),
                "turns": [_turn(t, max_ob_tokens) for t in rec.get("turns") or [] if isinstance(t, dict)],
            }
        )
    return {**out, "available": True, "reason": None}
