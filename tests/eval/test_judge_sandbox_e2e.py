"""arena_hard (a judge model) and livecodebench (a sandbox) through the benchmark runner on the local
server, from the bundled rows: the judge is a real ``TinkerMessageCompleter`` over a local sampling client,
the sandbox the test-only local one (tests/eval/test_agentic_benchmarks.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("numpy")

import tinkerlite
import tinkerlite.local
from tests.eval.test_agentic_benchmarks import LocalSandbox, _local_sandbox
from tinkerlite.eval.benchmarks import BenchmarkConfig, load_trajectories, run_benchmark
from tinkerlite.renderers import get_renderer

DATA = Path(__file__).parent / "data"
KEY = "tml-local"


def test_arena_hard_and_livecodebench_on_the_local_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(DATA))
    made = LocalSandbox.made
    with tinkerlite.local.serve(api_key=KEY) as url:
        service = tinkerlite.ServiceClient(base_url=url, api_key=KEY)
        policy = service.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
        judge = service.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
        renderer = get_renderer("role_colon", policy.get_tokenizer())
        arena = asyncio.run(run_benchmark("arena_hard", policy, renderer, BenchmarkConfig(
            max_tokens=16, temperature=0.0, judge_sampling_client=judge, save_dir=str(tmp_path / "arena"))))
        lcb = asyncio.run(run_benchmark("livecodebench", policy, renderer, BenchmarkConfig(
            max_tokens=16, temperature=0.0, sandbox_factory=_local_sandbox, save_dir=str(tmp_path / "lcb"))))
        service.close()
    assert arena.num_examples == 3 and set(arena.metrics) >= {"arena_hard/win_rate", "arena_hard/avg_score"}
    trajs = load_trajectories(str(tmp_path / "arena"), "arena_hard")
    assert len(trajs) == 3 and all("judge_output" in t.logs and "score" in t.logs for t in trajs)
    assert {t.logs["cluster"] for t in trajs} == {"Poetry", "Python", "unknown"}
    assert lcb.num_examples == 2 and lcb.score == 0.0  # the untrained model writes no passing program
    assert LocalSandbox.made - made == 2  # one sandbox per problem
    assert {t.logs["difficulty"] for t in load_trajectories(str(tmp_path / "lcb"), "livecodebench")} == {"easy",
                                                                                                    "medium"}
