"""A benchmark as a training-loop evaluator (the cookbook's ``eval.benchmark_evaluator``)."""

from __future__ import annotations

from typing import Any

from .benchmarks import run_benchmark
from .benchmarks._types import BenchmarkConfig
from .evaluators import SamplingClientEvaluator

__all__ = ["BenchmarkEvaluator"]


class BenchmarkEvaluator(SamplingClientEvaluator):
    """Runs ``benchmark_name`` on the current sampler; metrics ``eval/<name>/score|num_correct|...`` plus
    the benchmark's numeric metrics."""

    def __init__(
        self,
        benchmark_name: str,
        renderer: Any,
        max_examples: int = 100,
        max_tokens: int = 32768,
        temperature: float = 0.6,
    ) -> None:
        self.benchmark_name = benchmark_name
        self.renderer = renderer
        self.config = BenchmarkConfig(max_examples=max_examples, max_tokens=max_tokens, temperature=temperature)

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        result = await run_benchmark(self.benchmark_name, sampling_client, self.renderer, self.config)
        prefix = f"eval/{self.benchmark_name}"
        metrics = {
            f"{prefix}/score": result.score,
            f"{prefix}/num_correct": float(result.num_correct),
            f"{prefix}/num_examples": float(result.num_examples),
            f"{prefix}/num_errors": float(result.num_errors),
        }
        for key, value in result.metrics.items():
            if isinstance(value, (int, float)):
                metrics[f"{prefix}/{key}"] = float(value)
        return metrics
