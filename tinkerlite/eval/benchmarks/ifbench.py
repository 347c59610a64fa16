"""IFBench (``allenai/IFBench_test`` train, 300 prompts, 58 constraint types): graded by the official
IFBench checkers (``instructions_registry``, from ``pip install 'ifbench @
git+https://github.com/allenai/IFBench.git'``) exactly as the cookbook calls them; without that package
the first grading raises the cookbook's ImportError naming it."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

from ...completers import StopCondition
from ...rl.types import Action, ActionExtra, Env, StepResult
from ...types import ModelInput
from ._common import decode_response, limit_dataset, load_benchmark_dataset, make_example_id, parse_kwargs
from ._ifeval_verify import strict_loose_result
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)


def _checkers() -> Any | None:
    try:
        return importlib.import_module("instructions_registry").INSTRUCTION_DICT
    except ImportError:
        return None


def _verify_constraints(
    response: str, instruction_ids: list[str], kwargs_list: list[dict[str, Any]], prompt: str = ""
) -> tuple[float, bool]:
    """(fraction satisfied, all satisfied) under the IFBench checkers (unknown ids fail)."""
    checkers = _checkers()
    if checkers is None:
        raise ImportError(
            "IFBench requires the official checker library. Install it with:\n"
            "  uv pip install 'ifbench @ git+https://github.com/allenai/IFBench.git'"
        )
    results: list[bool] = []
    for iid, kw in zip(instruction_ids, kwargs_list, strict=False):
        if iid not in checkers:
            results.append(False)
            continue
        checker = checkers[iid](iid)
        checker.build_description(**{k: v for k, v in kw.items() if v is not None})
        args = checker.get_instruction_args()
        if args and "prompt" in args:
            checker.build_description(prompt=prompt)
        try:
            results.append(bool(checker.check_following(response)))
        except Exception:
            results.append(False)
    if not results:
        return 0.0, False
    return sum(results) / len(results), all(results)


class IFBenchEnv(Env):
    """One IFBench prompt (a token-level env, as in the cookbook)."""

    def __init__(
        self,
        prompt: str,
        instruction_ids: list[str],
        kwargs_list: list[dict[str, Any]],
        renderer: Any,
        example_id: str = "",
    ):
        self.prompt = prompt
        self.instruction_ids = instruction_ids
        self.kwargs_list = kwargs_list
        self.renderer = renderer
        self.example_id = example_id

    async def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        model_input = self.renderer.build_generation_prompt([{"role": "user", "content": self.prompt}])
        return model_input, self.renderer.get_stop_sequences()

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        response = decode_response(list(action), self.renderer)
        fraction, all_ok = _verify_constraints(response, self.instruction_ids, self.kwargs_list, prompt=self.prompt)
        return StepResult(
            reward=1.0 if all_ok else 0.0,
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(all_ok), "fraction": fraction},
            logs={
                "example_id": self.example_id,
                "input": self.prompt[:200],
                "fraction": fraction,
                "output": response[:500],
            },
        )


class IFBenchBenchmarkBuilder(BenchmarkBuilder):
    """IFBench: instruction following with 58 diverse constraint types (300 examples)."""

    name = "ifbench"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        try:
            ds = load_benchmark_dataset("allenai/IFBench_test", split="train")
        except Exception as exc:
            logger.warning(f"Could not load IFBench dataset: {exc}.")
            return []
        envs: list[Env] = []
        for row in limit_dataset(ds, config.max_examples):
            row = dict(row)
            prompt = row.get("prompt", "")
            if not prompt:
                continue
            ids = row.get("instruction_id_list", [])
            envs.append(IFBenchEnv(prompt, ids, parse_kwargs(row.get("kwargs", []), ids), renderer,
                                   example_id=make_example_id("ifbench", prompt)))
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Strict and loose accuracy."""
        return strict_loose_result(self.name, rewards, metrics_list)


from . import register  # noqa: E402

register(IFBenchBenchmarkBuilder())
