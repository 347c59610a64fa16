"""LiveCodeBench (competitive programming, stdin/stdout tests), as the cookbook's experimental ``_livecodebench``.

Benchmark ``livecodebench`` (``livecodebench/code_generation_lite`` on HF, its ``test6.jsonl`` through
``huggingface_hub`` when the loading script is refused, or a local JSONL copy): the response's Python code
runs in a sandbox against every test case (``python3 /tmp/solution.py < /tmp/stdin.txt``, 30 s each);
pass@1 overall and per difficulty. Needs ``BenchmarkConfig.sandbox_factory`` (an async callable giving an
object with ``write_file``, ``run_command`` and ``cleanup``): tinkerlite bundles no Modal sandbox, and
without one the first env says so (``_common.get_sandbox_factory``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import tinkerlite as tinker

from ...errors import MissingExtraError
from ...renderers.base import Message
from ...rl.types import Env, StepResult
from ._common import (
    SandboxMixin,
    decode_response,
    extract_python_code,
    get_sandbox_factory,
    limit_dataset,
    load_benchmark_dataset,
    make_example_id,
)
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)


class LiveCodeBenchEnv(SandboxMixin, Env):
    """Single-turn env for one problem; the sandbox is made at the first observation and cleaned up after grading."""

    def __init__(
        self,
        prompt: str,
        question: str,
        test_cases_json: str,
        difficulty: str,
        renderer: Any,
        sandbox_factory: Any,
        example_id: str = "",
    ):
        self.prompt = prompt
        self.question = question
        self.test_cases_json = test_cases_json
        self.difficulty = difficulty
        self.renderer = renderer
        self.sandbox_factory = sandbox_factory
        self.example_id = example_id

    async def initial_observation(self) -> Any:
        self.sandbox = await self.sandbox_factory()
        messages: list[Message] = [{"role": "user", "content": self.prompt}]
        return self.renderer.build_generation_prompt(messages), self.renderer.get_stop_sequences()

    async def step(self, action: Any, *, extra: Any = None) -> StepResult:
        assert self.sandbox is not None
        response = decode_response(action, self.renderer)
        code = extract_python_code(response)
        passed = await self._check_solution(code)
        await self.cleanup()
        return StepResult(
            reward=1.0 if passed else 0.0,
            episode_done=True,
            next_observation=tinker.ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(passed), "difficulty": self.difficulty},  # type: ignore[dict-item]
            logs={
                "example_id": self.example_id,
                "input": self.question[:200],
                "output": response[:500],
                "code": code[:500],
                "difficulty": self.difficulty,
            },
        )

    async def _check_solution(self, code: str) -> bool:
        """True when every test's stdout (stripped) equals its expected output and the exit code is 0."""
        assert self.sandbox is not None
        try:
            tests = json.loads(self.test_cases_json)
        except (json.JSONDecodeError, TypeError):
            return False
        inputs = tests.get("inputs", tests.get("input", []))
        outputs = tests.get("outputs", tests.get("output", []))
        if not inputs or not outputs or len(inputs) != len(outputs):
            return False
        await self.sandbox.write_file("/tmp/solution.py", code)
        for inp, expected_out in zip(inputs, outputs, strict=False):
            stdin_str = inp if isinstance(inp, str) else str(inp)
            expected = expected_out.strip() if isinstance(expected_out, str) else str(expected_out).strip()
            try:
                await self.sandbox.write_file("/tmp/stdin.txt", stdin_str)
                result = await self.sandbox.run_command("python3 /tmp/solution.py < /tmp/stdin.txt", timeout=30)
                if result.exit_code != 0 or result.stdout.strip() != expected:
                    return False
            except Exception:
                return False
        return True


def _load_rows() -> Any | None:
    """The dataset; on failure the JSONL fallback through huggingface_hub; None (with a warning) if both fail."""
    try:
        return load_benchmark_dataset("livecodebench/code_generation_lite")
    except MissingExtraError:
        raise
    except Exception:
        try:
            from datasets import Dataset as HFDataset  # type: ignore[import-not-found,unused-ignore]
            from huggingface_hub import hf_hub_download  # type: ignore[import-not-found,unused-ignore]

            path = hf_hub_download("livecodebench/code_generation_lite", "test6.jsonl", repo_type="dataset")
            ds = HFDataset.from_json(path)
            logger.info(f"Loaded LiveCodeBench from JSONL fallback ({len(ds)} examples)")
            return ds
        except Exception as exc:
            logger.warning(f"Could not load LiveCodeBench dataset: {exc}.")
            return None


def _test_cases_json(row: dict[str, Any]) -> str:
    """``input_output`` (old format), else the public tests as ``{"inputs": [...], "outputs": [...]}``."""
    test_cases_json: str = row.get("input_output", "")
    if test_cases_json:
        return test_cases_json
    public = row.get("public_test_cases", [])
    if isinstance(public, str) and public:
        try:
            public = json.loads(public)
        except json.JSONDecodeError:
            public = []
    if isinstance(public, list) and public:
        return json.dumps({"inputs": [t["input"] for t in public], "outputs": [t["output"] for t in public]})
    return test_cases_json


class LiveCodeBenchBenchmarkBuilder(BenchmarkBuilder):
    """LiveCodeBench: competitive programming with execution-based pass@1 (experimental; needs a sandbox)."""

    name = "livecodebench"
    experimental = True
    requires_sandbox = True

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = _load_rows()
        if ds is None:
            return []
        ds = limit_dataset(ds, config.max_examples)
        sandbox_factory = get_sandbox_factory(config)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            question = row.get("question_content", row.get("question", ""))
            starter_code = row.get("starter_code", "")
            test_cases_json = _test_cases_json(row)
            difficulty = row.get("difficulty", "unknown")
            if not question or not test_cases_json:
                continue
            parts = [question]
            if starter_code:
                parts.append(f"\nStarter code:\n```python\n{starter_code}\n```")
            parts.append(
                "\nWrite a complete Python solution. Read input from stdin and write output to stdout. "
                "Provide your solution in a ```python code block."
            )
            envs.append(
                LiveCodeBenchEnv(
                    "\n".join(parts),
                    question,
                    test_cases_json,
                    difficulty,
                    renderer,
                    sandbox_factory,
                    example_id=make_example_id("livecodebench", question),
                )
            )
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """pass@1 overall and per difficulty."""
        num_correct = sum(1 for r in rewards if r > 0)
        accuracy = num_correct / len(rewards) if rewards else 0.0
        by_difficulty: dict[str, list[bool]] = {}
        for r, m in zip(rewards, metrics_list, strict=False):
            d = m.get("difficulty", "unknown")
            if isinstance(d, str):
                by_difficulty.setdefault(d, []).append(r > 0)
        metrics: dict[str, float] = {"livecodebench/pass_at_1": accuracy}
        for d, res in sorted(by_difficulty.items()):
            metrics[f"livecodebench/{d}/pass_at_1"] = sum(res) / len(res) if res else 0.0
        return BenchmarkResult(
            name=self.name, score=accuracy, num_examples=len(rewards), num_correct=num_correct, metrics=metrics
        )


from . import register  # noqa: E402

register(LiveCodeBenchBenchmarkBuilder())
