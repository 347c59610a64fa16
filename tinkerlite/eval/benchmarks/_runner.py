"""Running benchmarks (the cookbook's ``run_benchmark`` / ``run_benchmarks``).

Every example is one RL episode (:func:`tinkerlite.rl.rollouts.do_single_rollout`) sampled with
``TinkerTokenCompleter(max_tokens, temperature, context_window)``, at most ``concurrency`` at a time
(``agent_concurrency`` for multi-turn benchmarks), each under ``timeout_seconds``. A failing or timed-out
example scores 0 and counts in ``num_errors``; one that hit ``max_tokens`` or the context window counts in
``num_truncated``. With ``save_dir``, finished examples are appended as they complete and a rerun skips the
ones already stored (``num_samples == 1``). ``num_samples > 1`` samples every example that many times, each
round on fresh envs, and adds unbiased pass@k.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import time
from typing import Any

from ...exceptions import BenchmarkNotFoundError
from ...rl.types import Env, Trajectory
from . import _results as store
from ._types import (
    METRIC_CONTEXT_OVERFLOW,
    METRIC_MAX_TOKENS_REACHED,
    BenchmarkBuilder,
    BenchmarkConfig,
    BenchmarkResult,
    Logs,
    Metrics,
    StoredTrajectory,
    StoredTurn,
)

__all__ = ["run_benchmark", "run_benchmarks"]

logger = logging.getLogger(__name__)
_warned_no_id: set[str] = set()


def _resolve(benchmark: BenchmarkBuilder | str) -> BenchmarkBuilder:
    from . import REGISTRY

    if not isinstance(benchmark, str):
        return benchmark
    name = benchmark
    candidates = [name]
    if len(name) > 5 and name[-4:].isdigit() and name[-5] == "_":  # e.g. aime_2025 -> aime
        candidates.append(name[:-5])
    if (first := name.split("_")[0]) not in candidates:
        candidates.append(first)
    for mod in (f"{__package__}.{p}{c}" for c in candidates for p in ("", "_")):
        if name in REGISTRY:
            break
        with contextlib.suppress(ImportError):
            importlib.import_module(mod)
    if name not in REGISTRY:
        raise BenchmarkNotFoundError(
            f"Unknown benchmark '{name}'. Available: {sorted(REGISTRY)}. "
            f"Register a BenchmarkBuilder with tinkerlite.eval.benchmarks.register, or add a module "
            f"tinkerlite.eval.benchmarks.{name} that does."
        )
    return REGISTRY[name]


def _check_requirements(b: BenchmarkBuilder, config: BenchmarkConfig) -> None:
    if b.requires_judge and config.judge_sampling_client is None:
        raise ValueError(
            f"Benchmark '{b.name}' requires an LLM judge. "
            "Set config.judge_sampling_client to a Tinker SamplingClient for the judge model."
        )
    if b.requires_sandbox and config.sandbox_factory is None:
        raise ValueError(
            f"Benchmark '{b.name}' requires a sandbox for code execution; provide config.sandbox_factory "
            "(tinkerlite bundles no Modal sandbox)."
        )


def _example_id(env: Env, idx: int, name: str) -> str:
    eid = getattr(env, "example_id", None)
    if eid:
        return str(eid)
    if name not in _warned_no_id:
        _warned_no_id.add(name)
        logger.warning(f"  {name} envs have no example_id; using the position, which is unstable across shuffles.")
    return str(idx)


def _stored(idx: int, traj: Trajectory, name: str, tokenizer: Any, seconds: float, eid: str) -> StoredTrajectory:
    turns: list[StoredTurn] = []
    metrics: Metrics = {}
    logs: Logs = {}
    for t in traj.transitions:
        if t.ob.length > 0:
            turns.append(
                StoredTurn("user" if not turns else "environment", tokenizer.decode(t.ob.to_ints()), t.ob.length)
            )
        turns.append(StoredTurn("assistant", tokenizer.decode(t.ac.tokens) if t.ac.tokens else "", len(t.ac.tokens)))
        metrics.update(t.metrics)
        logs.update(t.logs)
    logs.pop("example_id", None)
    reward = sum(t.reward for t in traj.transitions)
    return StoredTrajectory(idx, name, eid, turns, reward, metrics, logs, None, seconds)


@dataclasses.dataclass
class _Round:
    """Per-round accumulators."""

    rewards: list[float | None]
    metrics: list[Metrics]
    errors: int = 0


async def _run_round(
    b: BenchmarkBuilder,
    envs: list[Env],
    policy: Any,
    renderer: Any,
    config: BenchmarkConfig,
    done_before: dict[str, tuple[float, Metrics, bool]],
) -> tuple[_Round, list[str]]:
    from ...rl.rollouts import do_single_rollout

    ids = [_example_id(e, i, b.name) for i, e in enumerate(envs)]
    rnd = _Round([None] * len(envs), [{} for _ in envs])
    for i, eid in enumerate(ids):
        if eid in done_before:
            reward, metrics, was_error = done_before[eid]
            rnd.rewards[i], rnd.metrics[i] = reward, metrics
            rnd.errors += was_error
    sem = asyncio.Semaphore(config.agent_concurrency if b.multi_turn else config.concurrency)
    tokenizer = renderer.tokenizer

    async def one(i: int, env: Env) -> None:
        if ids[i] in done_before:
            return
        async with sem:
            t0 = time.monotonic()
            try:
                traj = await asyncio.wait_for(do_single_rollout(policy, env), timeout=config.timeout_seconds)
                st = _stored(i, traj, b.name, tokenizer, time.monotonic() - t0, ids[i])
                st.metrics.update(
                    {
                        "_eval_turns": len(traj.transitions),
                        "_eval_ac_tokens": sum(len(t.ac.tokens) for t in traj.transitions),
                        "_eval_ob_tokens": sum(t.ob.length for t in traj.transitions),
                    }
                )
                if config.grade_fn is not None:
                    last = traj.transitions[-1].ac.tokens if traj.transitions else []
                    st.reward = config.grade_fn(str(tokenizer.decode(last)) if last else "", st.logs)
                    st.metrics["custom_graded"] = 1.0
                rnd.rewards[i], rnd.metrics[i] = st.reward, st.metrics
            except Exception as e:  # a failing example scores 0; the run goes on
                timed_out = isinstance(e, (TimeoutError, asyncio.TimeoutError))
                msg = f"timeout ({config.timeout_seconds}s)" if timed_out else str(e)
                logger.warning(f"  {b.name}[{i}] {'timed out' if timed_out else 'failed'}: {msg}")
                rnd.errors += 1
                rnd.rewards[i] = 0.0
                st = StoredTrajectory(i, b.name, ids[i], reward=0.0, error=msg, time_seconds=time.monotonic() - t0)
            finally:
                cleanup = getattr(env, "cleanup", None)
                if callable(cleanup):
                    with contextlib.suppress(Exception):
                        await cleanup()
            if config.save_dir:
                store.append_trajectory(config.save_dir, st)

    await asyncio.gather(*(one(i, e) for i, e in enumerate(envs)))
    return rnd, ids


def _finish(
    b: BenchmarkBuilder, rewards: list[float], metrics: list[Metrics], errors: int, t0: float
) -> BenchmarkResult:
    truncated = sum(1 for m in metrics if m.get(METRIC_MAX_TOKENS_REACHED) or m.get(METRIC_CONTEXT_OVERFLOW))
    clean = [{k: v for k, v in m.items() if not k.startswith("_eval_")} for m in metrics]
    result = b.aggregate(rewards, clean)
    result.num_errors, result.num_truncated, result.time_seconds = errors, truncated, time.monotonic() - t0
    if metrics:
        turns = sum(m.get("_eval_turns", 0) for m in metrics)
        ac = sum(m.get("_eval_ac_tokens", 0) for m in metrics)
        ob = sum(m.get("_eval_ob_tokens", 0) for m in metrics)
        summary: dict[str, float | int] = {
            "total_ac_tokens": ac,
            "total_ob_tokens": ob,
            "total_turns": turns,
            "turns_per_episode": turns / len(metrics),
        }
        if turns:
            summary.update(ac_tokens_per_turn=ac / turns, ob_tokens_per_turn=ob / turns)
        for k, v in summary.items():
            result.metrics.setdefault(k, v)
    return result


async def run_benchmark(
    benchmark: BenchmarkBuilder | str,
    sampling_client: Any,
    renderer: Any,
    config: BenchmarkConfig = BenchmarkConfig(),  # noqa: B008 - the cookbook's default, never mutated
) -> BenchmarkResult:
    """Evaluate one benchmark (a builder, or a registered name) with ``sampling_client``."""
    from ...completers import TinkerTokenCompleter

    b = _resolve(benchmark)
    _check_requirements(b, config)
    if b.experimental:
        logger.warning(f"Benchmark '{b.name}' is experimental and may not match published scores.")
    if config.system_prompt is None and b.recommended_system_prompt is not None:
        config = dataclasses.replace(config, system_prompt=b.recommended_system_prompt)
    t0 = time.monotonic()
    policy = TinkerTokenCompleter(
        sampling_client=sampling_client,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        context_window=config.context_window,
    )
    envs = list(b.make_envs(renderer, config))
    logger.info(f"Running benchmark: {b.name} ({len(envs)} examples, {config.num_samples} sample(s) each)")
    if config.num_samples == 1:
        done = store.completed_examples(config.save_dir, b.name) if config.save_dir else {}
        rnd, _ = await _run_round(b, envs, policy, renderer, config, done)
        kept = [(r, m) for r, m in zip(rnd.rewards, rnd.metrics, strict=True) if r is not None]
        result = _finish(b, [r for r, _ in kept], [m for _, m in kept], rnd.errors, t0)
    else:
        per_example: dict[str, list[float]] = {}
        all_rewards: list[float] = []
        all_metrics: list[Metrics] = []
        errors = 0
        for s in range(config.num_samples):
            round_envs = envs if s == 0 else list(b.make_envs(renderer, config))
            rnd, ids = await _run_round(b, round_envs, policy, renderer, config, {})
            errors += rnd.errors
            for eid, r, m in zip(ids, rnd.rewards, rnd.metrics, strict=True):
                if r is not None:
                    per_example.setdefault(eid, []).append(r)
                    all_rewards.append(r)
                    all_metrics.append(m)
        result = _finish(b, all_rewards, all_metrics, errors, t0)
        result.pass_at_k = store.pass_at_k(per_example, store.k_values_for(config.num_samples))
    logger.info(
        f"  {b.name}: score={result.score:.3f} ({result.num_correct}/{result.num_examples}, "
        f"{result.num_errors} errors, {result.num_truncated} truncated) in {result.time_seconds:.0f}s"
    )
    if config.save_dir:
        store.save_result(config.save_dir, result)
    return result


async def run_benchmarks(
    names: list[str],
    sampling_client: Any,
    renderer: Any,
    config: BenchmarkConfig = BenchmarkConfig(),  # noqa: B008 - the cookbook's default, never mutated
    parallel: bool = True,
) -> dict[str, BenchmarkResult]:
    """Several benchmarks (concurrently unless ``parallel=False``); writes ``summary.json`` with ``save_dir``."""
    if parallel:
        results = dict(
            zip(
                names,
                await asyncio.gather(*(run_benchmark(n, sampling_client, renderer, config) for n in names)),
                strict=True,
            )
        )
    else:
        results = {n: await run_benchmark(n, sampling_client, renderer, config) for n in names}
    if config.save_dir:
        store.save_summary(config.save_dir, results)
    return results
