"""tau2-Bench (``tau2_bench``): the cookbook's experimental ``_tau2_bench``, by name only.

The cookbook's agent serves a customer simulated by the judge model (``judge_sampling_client``), calling
tools against the airline domain's database, policy and tasks downloaded from the tau2-bench GitHub
repository, graded by matching the expected actions. tinkerlite registers the benchmark with the
cookbook's settings; building its envs raises
:class:`~tinkerlite.eval.benchmarks._harness.BenchmarkHarnessUnavailableError` (see ``_harness``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._harness import BenchmarkHarnessUnavailableError
from ._types import BenchmarkBuilder, BenchmarkConfig

NEEDS = (
    "the tau2-bench harness: the airline domain's tasks, policy and database (downloaded from the "
    "sierra-research/tau2-bench repository), a tool backend over that database, and a user simulator "
    "driven by config.judge_sampling_client, graded by matching the expected actions"
)


class Tau2BenchBenchmarkBuilder(BenchmarkBuilder):
    """tau2-Bench: multi-turn customer-service agent evaluation (experimental; needs the tau2 harness)."""

    name = "tau2_bench"
    experimental = True
    requires_judge = True
    multi_turn = True
    recommended_timeout = 600

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        raise BenchmarkHarnessUnavailableError(self.name, NEEDS)


from . import register  # noqa: E402

register(Tau2BenchBenchmarkBuilder())
