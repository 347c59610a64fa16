"""Benchmark evaluation on the RL ``Env`` protocol (the cookbook's ``eval.benchmarks``).

A benchmark is a :class:`BenchmarkBuilder` that makes one env per example; ``step`` grades the response.
The runner handles concurrency, timeouts, trajectory storage, resuming and pass@k::

    register(MyBenchmark())
    result = await run_benchmark("my_benchmark", sampling_client, renderer, BenchmarkConfig(save_dir="evals"))

``run_benchmark("name", ...)`` also imports ``tinkerlite.eval.benchmarks.<name>`` on first use, so a
benchmark module registers itself when it is named. Bundled benchmark modules: gsm8k, math500, aime
(aime_2025/aime_2026), gpqa, mmlu_pro, mmlu_redux, supergpqa, ceval, ifeval, ifbench, mbpp, and the cookbook's
experimental ones: hmmt_feb_2025/hmmt_nov_2025, longbench, bfcl, arena_hard (needs a judge), livecodebench,
terminal_bench and swe_bench (need a sandbox, ``BenchmarkConfig.sandbox_factory``), tau2_bench (the judge
simulates the customer; its data files from the tau2-bench repository or local copies); rows come from
HF ``datasets`` or from local JSONL copies (``TINKERLITE_BENCHMARK_DATA``, see
``_common.load_benchmark_dataset``).
"""

from ._results import load_result, load_summary, load_trajectories, print_trajectory, regrade_trajectories
from ._runner import run_benchmark, run_benchmarks
from ._types import (
    BenchmarkBuilder,
    BenchmarkConfig,
    BenchmarkResult,
    BenchmarkResultDict,
    Logs,
    Metrics,
    PassAtKScores,
    StoredTrajectory,
    StoredTrajectoryDict,
    StoredTurn,
    StoredTurnDict,
    TurnRole,
)

#: Registered benchmarks by name (benchmark modules add themselves with :func:`register`).
REGISTRY: dict[str, BenchmarkBuilder] = {}


def register(builder: BenchmarkBuilder) -> BenchmarkBuilder:
    """Add ``builder`` to :data:`REGISTRY` under its ``name`` (returns it, so it works as a one-liner)."""
    REGISTRY[builder.name] = builder
    return builder


__all__ = [
    "REGISTRY",
    "BenchmarkBuilder",
    "BenchmarkConfig",
    "BenchmarkResult",
    "BenchmarkResultDict",
    "Logs",
    "Metrics",
    "PassAtKScores",
    "StoredTrajectory",
    "StoredTrajectoryDict",
    "StoredTurn",
    "StoredTurnDict",
    "TurnRole",
    "load_result",
    "load_summary",
    "load_trajectories",
    "print_trajectory",
    "register",
    "regrade_trajectories",
    "run_benchmark",
    "run_benchmarks",
]
