"""Per-batch trajectory metrics under the cookbook's names (``env/all/reward/total``, ``by_group/...``)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from ..backend import get_backend
from ..eval.evaluators import SamplingClientEvaluator
from .types import EnvGroupBuilder, RLDataset, TrajectoryGroup

__all__ = [
    "GOOD_THRESHOLD",
    "RLTestSetEvaluator",
    "compute_by_group_metrics",
    "compute_trajectory_metrics",
    "dataset_to_env_group_builders",
    "dict_mean",
]

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
    trajectory_groups_P: Sequence[TrajectoryGroup], taglist_P: Sequence[Sequence[str]]
) -> dict[str, float]:
    """``env/all/...`` always, and ``env/<tag>/...`` for every tag when some tag picks a strict subset."""
    groups = trajectory_groups_P
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


def dataset_to_env_group_builders(dataset: RLDataset) -> list[EnvGroupBuilder]:
    """Every batch of ``dataset``, flattened into one list of env group builders."""
    return list(itertools.chain.from_iterable(dataset.get_batch(i) for i in range(len(dataset))))


class RLTestSetEvaluator(SamplingClientEvaluator):
    """Rolls out every group of a held-out RL dataset and reports its trajectory metrics under ``name/``.

    ``strategy`` (:mod:`tinkerlite.rl.rollout_strategy`) collects each group: ``None``/``FailFast`` lets a
    rollout error end the evaluation; ``RetryOnFailure`` / ``MinViableGroup`` retry on fresh envs and skip a
    group that still fails (counted under ``name/rollout_errors/...``, scored as wrong). A group whose every
    trajectory failed is skipped either way.
    ``last_result`` holds the same run as a :class:`~tinkerlite.eval.benchmarks.BenchmarkResult`, a group
    counting as correct when one of its trajectories earned a positive reward.
    """

    def __init__(
        self,
        dataset: RLDataset,
        max_tokens: int,
        name: str = "test",
        num_groups_to_log: int = 4,
        strategy: Any | None = None,
    ) -> None:
        self.env_group_builders_P = dataset_to_env_group_builders(dataset)
        self.max_tokens = max_tokens
        self.name = name
        self.num_groups_to_log = num_groups_to_log
        self.strategy = strategy
        self.last_result: Any | None = None

    async def eval_token_completer(
        self, policy: Any, *, rollout_summary_export: Any | None = None, store: Any | None = None
    ) -> dict[str, float]:
        """Evaluate with any ``TokenCompleter`` (``policy(model_input, stop) -> TokensWithLogprobs``).

        With ``rollout_summary_export`` (a :class:`~tinkerlite.rl.rollout_logging.RolloutSummaryExportConfig`)
        and a ``store`` (anything with ``write_rollouts(iteration, records, base_name=)``), the per-trajectory
        summaries are written there too.
        """
        import asyncio
        import logging

        from ..exceptions import AllTrajectoriesFailedError
        from .rollout_strategy import FailFast, do_group_rollout_with_strategy
        from .rollouts import AllRolloutsFailedError, RolloutErrorCounter

        strategy = self.strategy if self.strategy is not None else FailFast()
        counter = RolloutErrorCounter()

        async def one(builder: EnvGroupBuilder) -> TrajectoryGroup | None:
            try:
                return await do_group_rollout_with_strategy(builder, policy, strategy)
            except (AllTrajectoriesFailedError, AllRolloutsFailedError) as e:
                logging.getLogger(__name__).warning("Eval: %s", e)
            except Exception as e:
                if not strategy.catches_group_errors:
                    raise
                logging.getLogger(__name__).warning("Eval rollout error (%s): %s", type(e).__name__, e)
                counter.record_exception(e)
            return None

        results = list(await asyncio.gather(*(one(b) for b in self.env_group_builders_P)))
        for r in results:
            counter.ingest(r)
        return self._collect(results, counter, rollout_summary_export, store)

    async def __call__(
        self, sampling_client: Any, *, rollout_summary_export: Any | None = None, store: Any | None = None
    ) -> dict[str, float]:
        from ..completers import TinkerTokenCompleter

        policy = TinkerTokenCompleter(sampling_client, max_tokens=self.max_tokens)
        return await self.eval_token_completer(policy, rollout_summary_export=rollout_summary_export, store=store)

    def _collect(
        self, results: Sequence[TrajectoryGroup | None], counter: Any, export: Any | None, store: Any | None
    ) -> dict[str, float]:
        from ..eval.benchmarks._types import BenchmarkResult

        kept = [(b, r) for b, r in zip(self.env_group_builders_P, results, strict=True) if r is not None]
        groups = [r for _, r in kept]
        if export is not None and store is not None:
            from .rollout_logging import serialize_rollout_summaries

            step = export.sampling_client_step
            records = serialize_rollout_summaries(
                split=export.split,
                iteration=export.iteration,
                trajectory_groups_P=groups,
                taglist_P=[b.logging_tags() for b, _ in kept],
                sampling_client_steps_P=[step] * len(groups) if step is not None else None,
            )
            store.write_rollouts(export.iteration, records, base_name=export.base_name)
        metrics = compute_trajectory_metrics(groups, [b.logging_tags() for b, _ in kept]) if groups else {}
        metrics.update(counter.get_metrics())
        correct = sum(1 for g in groups if any(r > 0 for r in g.get_total_rewards()))
        total = len(results)
        self.last_result = BenchmarkResult(
            name=self.name,
            score=correct / total if total else 0.0,
            num_examples=total,
            num_correct=correct,
            num_errors=total - len(groups),
            metrics=dict(metrics),
        )
        return {f"{self.name}/{k}": v for k, v in metrics.items()}
