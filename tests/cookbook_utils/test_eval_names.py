"""eval.benchmarks runner (storage, resume, errors, pass@k, regrade), BenchmarkEvaluator, EvalStore, exports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.eval as ev
from tinkerlite.completers import StopCondition
from tinkerlite.eval.benchmarks import (
    load_result,
    load_summary,
    load_trajectories,
    regrade_trajectories,
)
from tinkerlite.exceptions import BenchmarkNotFoundError
from tinkerlite.rl.types import Action, ActionExtra, Env, Observation, StepResult
from tinkerlite.types import ModelInput

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite
import tinkerlite.local
from tinkerlite.renderers import get_renderer
from tinkerlite.tokenizers import get_tokenizer


class _Env(Env):
    """Example ``i``: reward 1 when i is even; i == 3 raises; every env counts its steps in ``stepped``."""

    def __init__(self, i: int, renderer: Any, stepped: list[int]) -> None:
        self.i, self.renderer, self.stepped = i, renderer, stepped
        self.example_id = f"ex{i}"

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        prompt = self.renderer.build_generation_prompt([{"role": "user", "content": f"question {self.i}"}])
        return prompt, self.renderer.get_stop_sequences()

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        self.stepped.append(self.i)
        if self.i == 3:
            raise RuntimeError("grader crashed")
        return StepResult(
            reward=float(self.i % 2 == 0),
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(self.i % 2 == 0)},
            logs={"expected": str(self.i)},
        )


class _Bench(ev.BenchmarkBuilder):
    name = "toy_h4"

    def __init__(self) -> None:
        self.stepped: list[int] = []

    def make_envs(self, renderer: Any, config: ev.BenchmarkConfig) -> Sequence[Env]:
        n = config.max_examples or 5
        return [_Env(i, renderer, self.stepped) for i in range(n)]


@pytest.fixture(scope="module")
def sampler() -> Iterator[tuple[Any, Any]]:
    with tinkerlite.local.serve(long_poll_s=5.0, api_key="tml-local") as url:
        sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
        client = sc.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
        yield client, get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))
        sc.close()


def test_run_store_resume_and_regrade(sampler: tuple[Any, Any], tmp_path: Path) -> None:
    client, renderer = sampler
    bench = _Bench()
    cfg = ev.BenchmarkConfig(save_dir=str(tmp_path), max_tokens=4, max_examples=5)
    res = asyncio.run(ev.run_benchmark(bench, client, renderer, cfg))
    assert (res.num_examples, res.num_correct, res.num_errors) == (5, 3, 1)  # 0, 2, 4 correct; 3 crashed
    assert res.score == pytest.approx(0.6) and res.metrics["total_turns"] == 4
    trajs = load_trajectories(str(tmp_path), "toy_h4")
    assert len(trajs) == 5 and {t.example_id for t in trajs} == {f"ex{i}" for i in range(5)}
    assert [t.error for t in trajs if t.example_id == "ex3"] == ["grader crashed"]
    ok = next(t for t in trajs if t.example_id == "ex0")
    assert ok.turns[0].role == "user" and "question 0" in ok.turns[0].content and ok.turns[1].role == "assistant"
    assert len(load_trajectories(str(tmp_path), "toy_h4", errors_only=True)) == 1
    assert len(load_trajectories(str(tmp_path), "toy_h4", incorrect_only=True)) == 1  # ex1
    stored = load_result(str(tmp_path), "toy_h4")
    assert stored is not None and stored.num_correct == 3
    # resume: nothing stored is run again
    bench.stepped.clear()
    again = asyncio.run(ev.run_benchmark(bench, client, renderer, cfg))
    assert bench.stepped == [] and again.num_correct == 3 and again.num_errors == 1
    regraded = regrade_trajectories(str(tmp_path), "toy_h4", lambda resp, logs: float(logs["expected"] == "1"))
    assert (regraded.num_correct, regraded.num_errors) == (1, 1)


def test_grade_fn_pass_at_k_and_registry(sampler: tuple[Any, Any], tmp_path: Path) -> None:
    client, renderer = sampler
    ev.register(_Bench())
    cfg = ev.BenchmarkConfig(max_tokens=3, max_examples=3, num_samples=3, grade_fn=lambda r, logs: 1.0)
    res = asyncio.run(ev.run_benchmark("toy_h4", client, renderer, cfg))
    assert res.num_examples == 9 and res.score == 1.0 and res.pass_at_k == {1: 1.0, 3: 1.0}
    results = asyncio.run(
        ev.run_benchmarks(
            ["toy_h4"], client, renderer, ev.BenchmarkConfig(max_tokens=3, max_examples=2, save_dir=str(tmp_path))
        )
    )
    assert load_summary(str(tmp_path))["toy_h4"]["num_examples"] == 2 and results["toy_h4"].num_correct == 1
    with pytest.raises(BenchmarkNotFoundError, match="no_such_bench"):
        asyncio.run(ev.run_benchmark("no_such_bench", client, renderer))
    metrics = asyncio.run(ev.BenchmarkEvaluator("toy_h4", renderer, max_examples=2, max_tokens=3)(client))
    assert metrics["eval/toy_h4/score"] == 0.5 and metrics["eval/toy_h4/num_examples"] == 2.0


def test_config_validation_and_local_only_storage(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        ev.BenchmarkConfig(concurrency=0)
    with pytest.raises(ValueError, match="temperature"):
        ev.BenchmarkConfig(temperature=-1)
    from tinkerlite.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="local directories"):
        load_summary("s3://bucket/x")


def test_eval_store_round_trip(tmp_path: Path) -> None:
    store = ev.EvalStore(tmp_path / "evals")
    run = store.create_run(model_name="m", benchmarks=["toy_h4"], checkpoint_name="step5", config={"t": 1})
    assert run.startswith("step5_")
    r = ev.BenchmarkResult(name="toy_h4", score=0.5, num_examples=2, num_correct=1, pass_at_k={1: 0.5})
    store.write_result(run, r)
    store.write_trajectory(run, "toy_h4", ev.StoredTrajectory(idx=0, benchmark="toy_h4", reward=1.0))
    store.write_summary(run, {"toy_h4": r})
    meta = store.finalize_run(run)
    assert meta.scores == {"toy_h4": 0.5} and store.read_run(run).scores == {"toy_h4": 0.5}
    assert store.list_benchmarks(run) == ["toy_h4"] and [m.run_id for m in store.list_runs()] == [run]
    back = store.read_result(run, "toy_h4")
    assert back is not None and back.pass_at_k == {1: 0.5}
    assert store.read_single_trajectory(run, "toy_h4", 0) is not None
    assert store.read_summary(run) == {"toy_h4": {"score": 0.5, "num_examples": 2, "num_correct": 1, "num_errors": 0}}
    assert json.loads((tmp_path / "evals" / "runs.jsonl").read_text())["checkpoint"] == "step5"
    assert asyncio.run(store.aread_result(run, "toy_h4")) == back
    store.delete_run(run)
    assert store.list_runs() == []


def test_package_all_is_the_cookbooks() -> None:
    assert set(ev.__all__) == {
        "Evaluator",
        "EvaluatorBuilder",
        "SamplingClientEvaluator",
        "SamplingClientEvaluatorBuilder",
        "TrainingClientEvaluator",
        "BenchmarkBuilder",
        "BenchmarkConfig",
        "BenchmarkResult",
        "StoredTrajectory",
        "REGISTRY",
        "register",
        "run_benchmark",
        "run_benchmarks",
        "print_trajectory",
        "BenchmarkEvaluator",
        "EvalStore",
        "RunMetadata",
    }
    assert all(hasattr(ev, n) for n in ev.__all__)


def test_custom_evaluator_accuracy(sampler: tuple[Any, Any]) -> None:
    from tinkerlite.eval.custom_evaluators import QA_DATASET, CustomEvaluator, grader_fn

    client, _ = sampler
    assert grader_fn("it is PARIS.", "Paris") and not grader_fn("Lyon", "Paris")
    every = CustomEvaluator(QA_DATASET, lambda resp, target: True, "tinkerlite/tiny-chat", "role_colon")
    none = CustomEvaluator(QA_DATASET[:1], lambda resp, target: False, "tinkerlite/tiny-chat", "role_colon")
    assert asyncio.run(every(client)) == {"accuracy": 1.0}
    assert asyncio.run(none(client)) == {"accuracy": 0.0}
