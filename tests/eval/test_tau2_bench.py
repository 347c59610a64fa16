"""tau2-Bench against the cookbook 0.6.1's own ``_tau2_bench.py`` (executed at test time, its package imports
pointed at tinkerlite's env, tool, completer and renderer plumbing), on bundled airline-domain files
(tests/eval/data/tau2_bench/airline: own tasks, policy, database and tools in tau2's formats): tool
conversion, the database backend, action grading, the customer simulator's prompts, and whole episodes
(scripted agent turns, a scripted customer) through both."""

from __future__ import annotations

import asyncio
import json
import types
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.completers
import tinkerlite.tool_use.tools
import tinkerlite.tool_use.types
from tests.eval.test_hmmt_longbench import _pkg, _stubs
from tests.official_exec import load_official, modules_swapped
from tinkerlite.eval.benchmarks import REGISTRY, BenchmarkConfig
from tinkerlite.eval.benchmarks import _tau2_backend as backend
from tinkerlite.eval.benchmarks import _tau2_bench as tau2

pytestmark = pytest.mark.network_registry  # the cookbook sdist, fetched once (sha256-pinned)

DATA = Path(__file__).parent / "data"
DOMAIN = DATA / "tau2_bench" / "airline"


def _tau2_stubs() -> dict[str, types.ModuleType]:
    stubs = _stubs()
    stubs.update(
        {
            "tinker_cookbook.completers": tinkerlite.completers,
            "tinker_cookbook.tool_use": _pkg("tinker_cookbook.tool_use"),
            "tinker_cookbook.tool_use.tools": tinkerlite.tool_use.tools,
            "tinker_cookbook.tool_use.types": tinkerlite.tool_use.types,
        }
    )
    return stubs


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    mod = load_official("eval/benchmarks/_tau2_bench.py", "official_tau2_bench", _tau2_stubs(), register=True)
    mod._TAU2_CACHE = DATA / "tau2_bench"  # its cache directory, pointed at the bundled files
    return mod


@pytest.fixture(autouse=True)
def _data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(DATA))


@pytest.fixture
def renderer() -> Any:
    from tinkerlite.renderers import get_renderer
    from tinkerlite.tokenizer_utils import get_tokenizer

    return get_renderer("qwen3_instruct", get_tokenizer("tinkerlite/tiny-chat"))


def test_data_and_tool_conversion_match(official: types.ModuleType) -> None:
    assert tau2._load_tau2_data("airline") == official._load_tau2_data("airline")
    tasks, policy, db, tools = tau2._load_tau2_data("airline")
    assert len(tasks) == 3 and policy.startswith("# Airline") and set(db) == {"users", "reservations", "flights"}
    assert [t["function"]["name"] for t in tools][:2] == ["get_user_details", "get_reservation_details"]
    assert tools[2]["function"]["parameters"]["properties"]["cabin"]["enum"] == ["basic_economy", "economy", "business"]
    assert tau2.MAX_TURNS == official.MAX_TURNS


CALLS = [
    ("get_user_details", {"user_id": "mia_li_3668"}),
    ("get_reservation_details", {"reservation_id": "NO6JO3"}),
    ("get_reservation_details", {"reservation_id": "ZZZ"}),
    ("update_reservation_flights", {"reservation_id": "NO6JO3", "cabin": "business"}),
    ("get_reservation_details", {"reservation_id": "NO6JO3"}),
    ("search_direct_flight", {"origin": "jfk", "destination": None}),
    ("search_direct_flight", {"origin": "LAX"}),
    ("transfer_to_human_agents", {"summary": "needs help"}),
    ("book_hotel", {"city": "Paris"}),
    ("update_reservation_flights", {"reservation_id": "NOPE", "cabin": "economy"}),
]


def test_backend_matches(official: types.ModuleType) -> None:
    tasks, _, db, tools = tau2._load_tau2_data("airline")
    ours, theirs = backend.ToolBackend(db, tools), official.ToolBackend(db, tools)
    for name, args in CALLS:
        assert ours.execute(name, args) == theirs.execute(name, args), name
    assert ours.call_log == theirs.call_log and ours.db == theirs.db
    assert ours.db["reservations"]["NO6JO3"]["cabin"] == "business"
    assert db["reservations"]["NO6JO3"]["cabin"] == "economy"  # the backend works on a copy
    empty = backend.ToolBackend({}, tools)
    assert empty.execute("get_user_details", {"user_id": "x"}) == official.ToolBackend({}, tools).execute(
        "get_user_details", {"user_id": "x"}
    )
    for predicted in (ours.call_log, ours.call_log[:2], [], [{"name": "GET_RESERVATION_DETAILS", "arguments": "x"}]):
        for task in tasks:
            expected = task["evaluation_criteria"].get("actions", []) if task["evaluation_criteria"] else []
            assert backend._check_actions(predicted, expected) == official._check_actions(predicted, expected)


class ScriptedCustomer:
    """A customer completer: records its prompts, answers from a script (``RAISE`` raises)."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.prompts = list(replies), []  # type: ignore[var-annotated]

    async def __call__(self, messages: list[Any]) -> dict[str, Any]:
        self.prompts.append(json.loads(json.dumps(messages, default=str)))
        reply = self.replies.pop(0)
        if reply == "RAISE":
            raise RuntimeError("simulator down")
        return {"content": reply}


def _call(name: str, args: dict[str, Any]) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call><|im_end|>"


AGENT = [
    _call("get_reservation_details", {"reservation_id": "NO6JO3"}),
    "Sure, business it is. Shall I go ahead?<|im_end|>",
    _call("update_reservation_flights", {"reservation_id": "NO6JO3", "cabin": "business"}),
    "Done. Anything else?<|im_end|>",
    "Goodbye!<|im_end|>",
]


def _episode(builder: Any, renderer: Any, customer: list[str], agent: list[str], index: int = 0) -> Any:
    sim = ScriptedCustomer(customer)
    envs = builder.make_envs(renderer, BenchmarkConfig(judge_sampling_client=object()))
    env = envs[index]
    env.user_completer = sim

    async def run() -> list[Any]:
        obs, stop = await env.initial_observation()
        out: list[Any] = [obs.to_ints(), stop]
        for text in agent:
            r = await env.step(renderer.tokenizer.encode(text, add_special_tokens=False))
            out.append((r.reward, r.episode_done, r.metrics, r.logs, r.next_observation.to_ints()))
            if r.episode_done:
                break
        return out

    with modules_swapped(_tau2_stubs()):
        return asyncio.run(run()), sim.prompts, len(envs)


@pytest.mark.parametrize(
    ("customer", "agent", "index", "reward", "turns"),
    [
        (["Hi, upgrade NO6JO3 to business please.", "Yes please.", "No, thanks."], AGENT, 0, 1.0, 5),
        (["RAISE", "Yes. USER_STOP"], AGENT, 0, 0.5, 2),  # a failed opening; the customer ends after one call
        (["Which flights go JFK to SFO?", "RAISE"], ["Let me see.<|im_end|>", "AGENT_STOP<|im_end|>"], 1, 0.0, 2),
        (["Hello."], ["I cannot help, goodbye.<|im_end|>"], 2, 1.0, 1),  # no expected actions: full score
    ],
)
def test_episodes_match_the_cookbook(
    official: types.ModuleType, renderer: Any, customer: list[str], agent: list[str], index: int, reward: float,
    turns: int,
) -> None:
    ours, ours_prompts, n = _episode(REGISTRY["tau2_bench"], renderer, customer, agent, index)
    theirs, theirs_prompts, _ = _episode(official.Tau2BenchBenchmarkBuilder(), renderer, customer, agent, index)
    assert n == 3
    assert ours == theirs and ours_prompts == theirs_prompts
    last_reward, done, metrics, logs, _ = ours[-1]
    assert (last_reward, done, metrics["num_turns"]) == (reward, True, turns)
    from tinkerlite.eval.benchmarks._common import make_example_id

    third = make_example_id("tau2_bench", str(tau2._load_tau2_data("airline")[0][2]))
    assert logs["example_id"] == ["tau2_bench_0", "tau2_bench_1", third][index]


def test_without_a_judge_the_customer_is_canned(official: types.ModuleType, renderer: Any) -> None:
    ours = REGISTRY["tau2_bench"].make_envs(renderer, BenchmarkConfig(max_examples=1))
    assert len(ours) == 1 and isinstance(ours[0].user_completer, tau2._FallbackCompleter)
    judged = REGISTRY["tau2_bench"].make_envs(renderer, BenchmarkConfig(judge_sampling_client=object()))
    completer = judged[0].user_completer
    assert isinstance(completer, tinkerlite.completers.TinkerMessageCompleter)
    assert (completer.max_tokens, completer.temperature) == (2048, 0.7)
    assert judged[0].system_prompt == tau2._load_tau2_data("airline")[1][:8000]
