"""Evaluation (the cookbook's ``eval``): evaluator interfaces, the benchmark framework, and the eval store.

1. Evaluators (:class:`SamplingClientEvaluator`, :class:`TrainingClientEvaluator`): called by the training
   loops every N steps, return ``dict[str, float]``.
2. Benchmarks (:mod:`tinkerlite.eval.benchmarks`): one RL ``Env`` per example; the runner handles
   concurrency, storage, resuming and pass@k. :class:`BenchmarkEvaluator` runs one inside a training loop.
3. :class:`EvalStore`: runs kept on disk, compared across checkpoints.
"""

from ..stores.eval_store import EvalStore, RunMetadata
from .benchmark_evaluator import BenchmarkEvaluator
from .benchmarks import (
    REGISTRY,
    BenchmarkBuilder,
    BenchmarkConfig,
    BenchmarkResult,
    StoredTrajectory,
    print_trajectory,
    register,
    run_benchmark,
    run_benchmarks,
)
from .evaluators import (
    Evaluator,
    EvaluatorBuilder,
    SamplingClientEvaluator,
    SamplingClientEvaluatorBuilder,
    TrainingClientEvaluator,
)

__all__ = [
    "REGISTRY",
    "BenchmarkBuilder",
    "BenchmarkConfig",
    "BenchmarkEvaluator",
    "BenchmarkResult",
    "EvalStore",
    "Evaluator",
    "EvaluatorBuilder",
    "RunMetadata",
    "SamplingClientEvaluator",
    "SamplingClientEvaluatorBuilder",
    "StoredTrajectory",
    "TrainingClientEvaluator",
    "print_trajectory",
    "register",
    "run_benchmark",
    "run_benchmarks",
]
