"""Terminal-Bench (``terminal_bench``): the cookbook's experimental ``_terminal_bench``, by name only.

The cookbook's agent solves each task through a ``bash`` tool in a sandbox built from the task's files
(Modal or local Docker; git, python3, pip, curl, wget, build-essential) and is graded by the task's test
script. tinkerlite registers the benchmark with the cookbook's settings; building its envs raises
:class:`~tinkerlite.eval.benchmarks._harness.BenchmarkHarnessUnavailableError` (see ``_harness``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...rl.types import Env
from ._harness import BenchmarkHarnessUnavailableError
from ._types import BenchmarkBuilder, BenchmarkConfig

NEEDS = (
    "a multi-turn sandboxed agent: a container sandbox (the cookbook's tinker_cookbook.sandbox, Modal or local "
    "Docker) set up from each task's files, a bash tool, and the task's test script as grader (dataset "
    "ia03/terminal-bench; its task archives need PyYAML)"
)


class TerminalBenchBenchmarkBuilder(BenchmarkBuilder):
    """Terminal-Bench: multi-turn terminal task solving (experimental; needs a sandboxed agent harness)."""

    name = "terminal_bench"
    experimental = True
    requires_sandbox = True
    multi_turn = True
    recommended_timeout = 1800

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        raise BenchmarkHarnessUnavailableError(self.name, NEEDS)


from . import register  # noqa: E402

register(TerminalBenchBenchmarkBuilder())
