"""The agentic benchmarks tinkerlite names but does not run: SWE-bench Verified and tau2-Bench.

The cookbook's ``_swe_bench`` and ``_tau2_bench`` drive multi-turn tool-using agents in a container sandbox
holding each problem's repository checkout, graded with pytest (SWE-bench), or against a simulated customer
and a downloaded airline database (tau2). (Terminal-Bench, which needs only a sandbox given through
``BenchmarkConfig.sandbox_factory``, is ported: ``_terminal_bench``.) tinkerlite keeps their benchmark
names, flags and registration, so ``REGISTRY`` lists them and configs that name them parse; building their
envs raises :class:`BenchmarkHarnessUnavailableError`, which says what the harness needs.
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
