"""BFCL, Arena-Hard, LiveCodeBench against the cookbook 0.6.1's own ``_bfcl.py`` / ``_arena_hard.py`` /
``_livecodebench.py`` (executed at test time, their package imports pointed at tinkerlite's equivalents;
the dataset calls read the bundled rows in tests/eval/data, own examples in the datasets' formats): the
same envs from the same rows, the same grades and logs for the same responses, the same aggregates. And the
agentic ones' settings and registration (their episodes: test_terminal_bench.py, test_swe_bench.py,
test_tau2_bench.py)."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.completers
import tinkerlite.renderers
from tests.eval.test_hmmt_longbench import _stubs
from tests.official_env import official_source
from tests.official_exec import load_official, modules_swapped
from tinkerlite.eval.benchmarks import (
    REGISTRY,
    BenchmarkConfig,
    _livecodebench,  # noqa: F401 (registers livecodebench)
    _swe_bench,
    _tau2_bench,
    _terminal_bench,
    run_benchmark,
)
from tinkerlite.eval.benchmarks import _arena_hard as arena
from tinkerlite.eval.benchmarks import _bfcl as bfcl

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.network_registry  # the cookbook sdist, fetched once (sha256-pinned)


def _more_stubs() -> dict[str, types.ModuleType]:
    stubs = _stubs()
    stubs["tinker_cookbook"].renderers = tinkerlite.renderers  # type: ignore[attr-defined]
    stubs["tinker_cookbook.completers"] = tinkerlite.completers
    stubs["datasets"].load_dataset = lambda repo, data_files, split, **kw: bfcl._load_file(data_files)  # type: ignore[attr-defined]
    return stubs


@pytest.fixture(scope="module")
def official() -> dict[str, types.ModuleType]:
    return {
        name: load_official(f"eval/benchmarks/_{name}.py", f"official_{name}", _more_stubs())
        for name in ("bfcl", "arena_hard", "livecodebench")
    }


@pytest.fixture
def renderer() -> Any:
    from tinkerlite.tokenizer_utils import get_tokenizer

    return tinkerlite.renderers.get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))


@pytest.fixture(autouse=True)
def _data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(DATA))


def _step_both(ours: Any, theirs: Any, tokens: list[int]) -> tuple[Any, Any]:
    with modules_swapped(_more_stubs()):  # the cookbook's envs import at step time
        b = asyncio.run(theirs.step(tokens))
    return asyncio.run(ours.step(tokens)), b


def _same_result(a: Any, b: Any) -> None:
    assert (a.reward, a.episode_done, a.metrics, a.logs) == (b.reward, b.episode_done, b.metrics, b.logs)
    assert a.next_observation.length == b.next_observation.length == 0 and a.next_stop_condition == []


# ------------------------------------------------------------------------------------------------ BFCL

CALLS = [
    '{"name": "convert", "arguments": {"value": 3, "unit": "km", "tags": ["a", "b"]}}',
    'I will call {"name": "CONVERT", "arguments": {"value": 3, "unit": "km ", "tags": ["B", "A"], "x": 1}} now',
    '{"name": "convert", "arguments": {"value": 4, "unit": "km", "tags": ["a", "b"]}}',
    '{"name": "convert", "parameters": {"value": 3, "unit": "km", "tags": ["a", "b"]}}',
    '{"function": "weather", "arguments": {"city": " paris"}}',
    '{"name": "weather", "arguments": "city=Paris"}',
    '{broken {"name": "weather"}',
    '```json\n[{"name": "weather", "arguments": {"city": "Paris"}}]\n```',
    'text ```\n{"name": "weather", "arguments": {"city": "Paris"}}\n``` done',
    '{"calculate_triangle_area": {"base": 10, "height": 5}}',
    "no call at all",
    "",
]


def test_bfcl_extraction_and_matching(official: dict[str, Any]) -> None:
    theirs = official["bfcl"]
    expected = [
        {"name": "convert", "arguments": {"value": 3, "unit": " KM ", "tags": ["b", "a"]}},
        {"name": "weather", "arguments": {"city": "Paris"}},
        {"calculate_triangle_area": {"base": [10], "height": [5]}},
        {"name": 7, "arguments": {}},
    ]
    for text in CALLS:
        got = bfcl._extract_function_call(text)
        assert got == theirs._extract_function_call(text), text
        for exp in expected:
            if got is not None:
                assert bfcl._match_function_call(got, exp) == theirs._match_function_call(got, exp), (text, exp)
    for v in [" A ", ["b", "a"], {"k": [" Y", "x"]}, 3, None, [[2, 1], [1]]]:
        assert bfcl._normalize_value(v) == theirs._normalize_value(v)


def test_bfcl_envs_and_grades(official: dict[str, Any], renderer: Any) -> None:
    config = BenchmarkConfig()
    ours = REGISTRY["bfcl"].make_envs(renderer, config)
    theirs = official["bfcl"].BFCLBenchmarkBuilder().make_envs(renderer, config)
    fields = ("prompt", "user_query", "expected", "example_id")
    assert [[getattr(e, f) for f in fields] for e in ours] == [[getattr(e, f) for f in fields] for e in theirs]
    assert len(ours) == 3  # no question / unparsable truth dropped
    rewards = []
    for o, t in zip(ours, theirs, strict=True):
        assert asyncio.run(o.initial_observation())[0].to_ints() == asyncio.run(t.initial_observation())[0].to_ints()
        for text in CALLS:
            a, b = _step_both(o, t, renderer.tokenizer.encode(text, add_special_tokens=False))
            _same_result(a, b)
            rewards.append(a.reward)
    assert 0 < sum(rewards) < len(rewards)


def test_bfcl_without_data_or_datasets(renderer: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tinkerlite.errors import MissingExtraError

    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(tmp_path))
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[datasets\]"):
        REGISTRY["bfcl"].make_envs(renderer, BenchmarkConfig())


# ------------------------------------------------------------------------------------------ Arena-Hard


class ScriptedJudge:
    """A judge completer (messages -> assistant message) answering from a script; one reply raises."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.prompts = list(replies), []  # type: ignore[var-annotated]

    async def __call__(self, messages: list[Any]) -> Any:
        self.prompts.append(messages[0]["content"])
        reply = self.replies.pop(0)
        if reply == "RAISE":
            raise RuntimeError("judge down")
        return {"role": "assistant", "content": reply}


JUDGE_REPLIES = ["Good. Rating: [[8]]", "rating: 6", "[[7]] then Rating: 2", "no score", "RAISE", "[[10]]", "[[x]]"]


def test_arena_hard_score_extraction(official: dict[str, Any]) -> None:
    for text in [*JUDGE_REPLIES, "Rating:9", "[[ 7 ]]", "[[07]]", ""]:
        assert arena._extract_judge_score(text) == official["arena_hard"]._extract_judge_score(text)
    assert arena._JUDGE_PROMPT_TEMPLATE == official["arena_hard"]._JUDGE_PROMPT_TEMPLATE


def test_arena_hard_envs_grades_and_aggregate(official: dict[str, Any], renderer: Any) -> None:
    theirs_mod = official["arena_hard"]
    with pytest.raises(ValueError, match="judge_sampling_client"):
        REGISTRY["arena_hard"].make_envs(renderer, BenchmarkConfig())
    config = BenchmarkConfig(judge_sampling_client=object())
    ours = REGISTRY["arena_hard"].make_envs(renderer, config)
    theirs = theirs_mod.ArenaHardBenchmarkBuilder().make_envs(renderer, config)
    fields = ("question", "cluster", "example_id")
    assert [[getattr(e, f) for f in fields] for e in ours] == [[getattr(e, f) for f in fields] for e in theirs]
    assert len(ours) == 3 and ours[2].cluster == "unknown"
    judge = ours[0].judge_completer
    assert isinstance(judge, tinkerlite.completers.TinkerMessageCompleter)
    assert (judge.max_tokens, judge.temperature, judge.sampling_client) == (4096, 0.0, config.judge_sampling_client)
    rewards, metrics = [], []
    for o, t in zip(ours, theirs, strict=True):
        o.judge_completer, t.judge_completer = ScriptedJudge(JUDGE_REPLIES), ScriptedJudge(JUDGE_REPLIES)
        for _ in JUDGE_REPLIES:
            a, b = _step_both(o, t, renderer.tokenizer.encode("An answer.", add_special_tokens=False))
            _same_result(a, b)
            rewards.append(a.reward)
            metrics.append(a.metrics)
        assert o.judge_completer.prompts == t.judge_completer.prompts
    got = REGISTRY["arena_hard"].aggregate(rewards, metrics)
    assert got == theirs_mod.ArenaHardBenchmarkBuilder().aggregate(rewards, metrics)
    assert got.score == 3 / 7  # [[8]], [[7]] and [[10]] of each seven


# --------------------------------------------------------------------------------------- LiveCodeBench


@dataclass
class Ran:
    exit_code: int
    stdout: str


class LocalSandbox:
    """Test-only sandbox: files under a temp dir (``/tmp/x`` -> ``root/x``), commands run with this Python."""

    made = 0

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lcb-sandbox-"))
        self.cleaned = False
        LocalSandbox.made += 1

    async def write_file(self, path: str, text: str) -> None:
        (self.root / Path(path).name).write_text(text)

    async def run_command(self, command: str, timeout: float) -> Ran:
        assert command == "python3 /tmp/solution.py < /tmp/stdin.txt"
        with open(self.root / "stdin.txt") as stdin:
            proc = subprocess.run([sys.executable, "solution.py"], cwd=self.root, stdin=stdin, capture_output=True,
                                  text=True, timeout=timeout)
        return Ran(proc.returncode, proc.stdout)

    async def cleanup(self) -> None:
        self.cleaned = True


async def _local_sandbox() -> LocalSandbox:
    return LocalSandbox()


SOLUTIONS = [
    "```python\na, b = map(int, input().split())\nprint(a + b)\n```",
    "```python\nprint(input()[::-1])\n```",
    "```python\nprint(3)\n```",
    "```python\nraise SystemExit(1)\n```",
    "no code here",
]


def test_livecodebench_envs_grades_and_aggregate(official: dict[str, Any], renderer: Any) -> None:
    theirs_mod = official["livecodebench"]
    config = BenchmarkConfig(sandbox_factory=_local_sandbox)
    ours = REGISTRY["livecodebench"].make_envs(renderer, config)
    theirs = theirs_mod.LiveCodeBenchBenchmarkBuilder().make_envs(renderer, config)
    fields = ("prompt", "question", "test_cases_json", "difficulty", "example_id")
    assert [[getattr(e, f) for f in fields] for e in ours] == [[getattr(e, f) for f in fields] for e in theirs]
    assert len(ours) == 2
    rewards, metrics = [], []
    for o, t in zip(ours, theirs, strict=True):
        for code in SOLUTIONS:
            for env in (o, t):
                env._cleaned_up = False
                asyncio.run(env.initial_observation())
            a, b = _step_both(o, t, renderer.tokenizer.encode(code, add_special_tokens=False))
            _same_result(a, b)
            assert o.sandbox.cleaned and t.sandbox.cleaned
            rewards.append(a.reward)
            metrics.append(a.metrics)
    assert rewards == [1, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    got = REGISTRY["livecodebench"].aggregate(rewards, metrics)
    assert got == theirs_mod.LiveCodeBenchBenchmarkBuilder().aggregate(rewards, metrics)
    assert got.metrics == {"livecodebench/pass_at_1": 0.2, "livecodebench/easy/pass_at_1": 0.2,
                           "livecodebench/medium/pass_at_1": 0.2}


def test_livecodebench_without_a_sandbox_says_so(renderer: Any) -> None:
    envs = REGISTRY["livecodebench"].make_envs(renderer, BenchmarkConfig())
    with pytest.raises(RuntimeError, match="provide a sandbox_factory in BenchmarkConfig"):
        asyncio.run(envs[0].initial_observation())
    with pytest.raises(ValueError, match="requires a sandbox"):
        asyncio.run(run_benchmark("livecodebench", object(), renderer, BenchmarkConfig()))


# ---------------------------------------------------------------------------- agentic: names, settings

FLAGS = ("name", "experimental", "requires_sandbox", "requires_judge", "multi_turn", "recommended_timeout")


def _official_class(module: str, cls: str) -> dict[str, Any]:
    tree = ast.parse((official_source("cookbook") / "tinker_cookbook/eval/benchmarks" / module).read_text())
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    attrs = {
        s.targets[0].id: ast.literal_eval(s.value)
        for s in node.body
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
    }
    return {"attrs": attrs, "methods": {s.name: s for s in node.body if isinstance(s, ast.FunctionDef)}, "tree": tree}


BUILDERS = [
    ("_swe_bench.py", "SWEBenchBenchmarkBuilder", _swe_bench.SWEBenchBenchmarkBuilder),
    ("_terminal_bench.py", "TerminalBenchBenchmarkBuilder", _terminal_bench.TerminalBenchBenchmarkBuilder),
    ("_tau2_bench.py", "Tau2BenchBenchmarkBuilder", _tau2_bench.Tau2BenchBenchmarkBuilder),
]


@pytest.mark.parametrize(("module", "cls", "ours"), BUILDERS)
def test_agentic_benchmarks_have_the_cookbooks_settings(module: str, cls: str, ours: type) -> None:
    theirs = _official_class(module, cls)["attrs"]
    builder = REGISTRY[theirs["name"]]
    assert type(builder) is ours
    for flag in FLAGS:
        want = theirs[flag] if flag in theirs else getattr(ours.__mro__[1], flag)  # unset there: the base default
        assert getattr(builder, flag) == want, flag
