"""Benchmarks tinkerlite names but does not run (today: tau2-Bench).

The cookbook's ``_tau2_bench`` drives a customer-service agent against a customer simulated by the judge
model, a tool backend over the airline domain's database, and tasks and policy downloaded from the
tau2-bench repository. tinkerlite keeps its benchmark name, flags and registration, so ``REGISTRY`` lists
it and configs that name it parse; building its envs raises :class:`BenchmarkHarnessUnavailableError`,
which says what the harness needs. (SWE-bench and Terminal-Bench, which need only a sandbox given through
``BenchmarkConfig.sandbox_factory``, are ported: ``_swe_bench``, ``_terminal_bench``.)
"""

from __future__ import annotations

from ...exceptions import EvalError


class BenchmarkHarnessUnavailableError(EvalError, NotImplementedError):
    """A benchmark whose harness (sandboxed agent, simulator, external data) tinkerlite does not ship."""

    def __init__(self, benchmark: str, needs: str) -> None:
        self.benchmark = benchmark
        self.needs = needs
        super().__init__(
            f"benchmark {benchmark!r} needs {needs}; tinkerlite registers its name and settings but does not "
            f"ship that harness. Run it with tinker_cookbook's eval.benchmarks (against tinkerlite serve "
            f"through TINKER_BASE_URL, if you like), or register a BenchmarkBuilder of your own under "
            f"{benchmark!r} with tinkerlite.eval.benchmarks.register"
        )
