"""SWE-bench Verified (``swe_bench``): the cookbook's experimental ``_swe_bench``, by name only.

The cookbook's agent edits a checkout of each problem's repository through a ``bash`` tool inside a
sandbox (git, python3, pip) and is graded by running the ``fail_to_pass`` tests with pytest. tinkerlite
registers the benchmark with the cookbook's settings and aggregate; building its envs raises
:class:`~tinkerlite.eval.benchmarks._harness.BenchmarkHarnessUnavailableError` (see ``_harness``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._harness import BenchmarkHarnessUnavailableError
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

NEEDS = (
    "a multi-turn sandboxed agent: a container sandbox (the cookbook's tinker_cookbook.sandbox, Modal) with git, "
    "python3 and pip, a checkout of each problem's repository at its base_commit, a bash tool, and pytest "
    "grading of the fail_to_pass tests (dataset princeton-nlp/SWE-bench_Verified)"
)


def _parse_test_ids(raw: str | list[str]) -> list[str]:
    """``fail_to_pass`` / ``pass_to_pass``: a list, a JSON list in a string, or one test id."""
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, list):
                return parsed
        except (json.JSONDecodeError, TypeError):
            pass
        if raw.strip():
            return [raw.strip()]
    return []


class SWEBenchBenchmarkBuilder(BenchmarkBuilder):
    """SWE-bench Verified: multi-turn software engineering (experimental; needs a sandboxed agent harness)."""

    name = "swe_bench"
    experimental = True
    requires_sandbox = True
    multi_turn = True
    recommended_timeout = 1800

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        raise BenchmarkHarnessUnavailableError(self.name, NEEDS)

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Resolve rate (the score) and the mean number of turns."""
        num_correct = sum(1 for r in rewards if r > 0)
        resolve_rate = num_correct / len(rewards) if rewards else 0.0
        avg_turns = sum(m.get("num_turns", 0) for m in metrics_list) / len(metrics_list) if metrics_list else 0.0
        return BenchmarkResult(
            name=self.name,
            score=resolve_rate,
            num_examples=len(rewards),
            num_correct=num_correct,
            metrics={"swe_bench/resolve_rate": resolve_rate, "swe_bench/avg_turns": avg_turns},
        )


from . import register  # noqa: E402

register(SWEBenchBenchmarkBuilder())
