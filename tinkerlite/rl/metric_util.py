"""Per-batch trajectory metrics under the cookbook's names (``env/all/reward/total``, ``by_group/...``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..backend import get_backend
from .types import TrajectoryGroup

__all__ = ["GOOD_THRESHOLD", "compute_by_group_metrics", "compute_trajectory_metrics", "dict_mean"]

GOOD_THRESHOLD = 0.5


def dict_mean(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean per key over the rows that have it (``None`` values are skipped, as a missing key)."""
    b = get_backend()
    by_key: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for k, v in row.items():
            if v is not None:
                by_key[k].append(float(v))
    return {k: b.mean(b.asarray(vs)) for k, vs in by_key.items()}


def compute_by_group_metrics(
    groups: Sequence[TrajectoryGroup], good_thresh: float = GOOD_THRESHOLD
) -> dict[str, float]:
    """Fractions of groups whose rewards are mixed, all good (≥ threshold) or all bad."""
    n = len(groups)
    if n == 0:
        return {"by_group/frac_mixed": 0.0, "by_group/frac_all_good": 0.0, "by_group/frac_all_bad": 0.0}
    mixed = good = bad = 0
    for g in groups:
        rewards = g.get_total_rewards()
        if all(r == rewards[0] for r in rewards):
            if rewards[0] >= good_thresh:
                good += 1
            else:
                bad += 1
        else:
            mixed += 1
    return {"by_group/frac_mixed": mixed / n, "by_group/frac_all_good": good / n, "by_group/frac_all_bad": bad / n}


def _metrics(groups: Sequence[TrajectoryGroup]) -> dict[str, float]:
    b = get_backend()
    trajs = [t for g in groups for t in g.trajectories_G]
    transitions = [tr for t in trajs for tr in t.transitions]
    total_turns = len(transitions)
    total_episodes = len(trajs)
    total_ac = sum(len(tr.ac.tokens) for tr in transitions)
    total_ob = sum(tr.ob.length for tr in transitions)
    out: dict[str, float] = {
        "ac_tokens_per_turn": total_ac / total_turns if total_turns else 0.0,
        "ob_tokens_per_turn": total_ob / total_turns if total_turns else 0.0,
        "turns_per_episode": total_turns / total_episodes if total_episodes else 0.0,
        "total_episodes": total_episodes,
        "total_turns": total_turns,
        "total_ac_tokens": total_ac,
        "total_ob_tokens": total_ob,
        "total_cached_ob_tokens": sum(tr.ac.prompt_cache_hit_tokens for tr in transitions),
    }
    rewards = [r for g in groups for r in g.get_total_rewards()]
    out["reward/total"] = b.mean(b.asarray(rewards)) if rewards else 0.0
    # Transition and group metrics are averaged together: a key (e.g. "format") may come from env.step
    # in one env and from compute_group_rewards in another.
    out.update(dict_mean([tr.metrics for tr in transitions] + [m for g in groups for m in g.metrics_G]))
    out.update(compute_by_group_metrics(groups))
    return out


def compute_trajectory_metrics(
    groups: Sequence[TrajectoryGroup], taglist_P: Sequence[Sequence[str]]
) -> dict[str, float]:
    """``env/all/...`` always, and ``env/<tag>/...`` for every tag when some tag picks a strict subset."""
    by_tag: dict[str, list[TrajectoryGroup]] = defaultdict(list)
    for tags, group in zip(taglist_P, groups, strict=False):
        for tag in tags:
            by_tag[tag].append(group)
    out: dict[str, float] = {}
    if any(len(gs) < len(groups) for gs in by_tag.values()):
        for tag, gs in by_tag.items():
            out.update({f"env/{tag}/{k}": v for k, v in _metrics(gs).items()})
    out.update({f"env/all/{k}": v for k, v in _metrics(groups).items()})
    return out
