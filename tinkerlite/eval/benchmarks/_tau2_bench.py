"""tau2-Bench (``tau2_bench``): a customer-service agent against a simulated customer, as the cookbook's
experimental ``_tau2_bench``.

Each airline-domain task's customer is simulated by the judge model (``BenchmarkConfig.judge_sampling_client``
with ``judge_renderer``, temperature 0.7, up to 2048 tokens; without one, canned replies, with a warning);
the agent answers or calls the domain's tools, which run against a copy of the domain database
(:class:`~tinkerlite.eval.benchmarks._tau2_backend.ToolBackend`), for up to 30 turns; the reward is the
fraction of the task's expected actions matched by the calls made. As in the cookbook (and its stated
limits): heuristic tool execution, no natural-language assertions, no database-state check.

Data: ``tasks.json``, ``policy.md``, ``db.json`` and the shared ``tools.json`` of the tau2-bench repository,
cached in ``~/.cache/tau2_bench/<domain>/`` (downloaded there on first use, as the cookbook does), or read
from ``$TINKERLITE_BENCHMARK_DATA/tau2_bench/<domain>/`` when that directory exists (offline copies).
The renderer must declare tools (``create_conversation_prefix_with_tools``).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...completers import TinkerMessageCompleter
from ...renderers.base import Message, ToolCall, ToolSpec
from ...renderers.content import format_content_as_string, get_text_content
from ...rl.message_env import EnvFromMessageEnv, MessageEnv, MessageStepResult
from ...rl.types import Env
from ...tool_use.tools import simple_tool_result
from ...tool_use.types import ToolInput, ToolResult
from ._common import DATA_DIR_ENV, make_example_id
from ._single_turn import wrap
from ._tau2_backend import ToolBackend, _check_actions, _convert_tau2_tools_to_openai
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

MAX_TURNS = 30
"""Maximum number of agent turns before forced termination."""

_TAU2_REPO = "https://raw.githubusercontent.com/sierra-research/tau2-bench/main"
_TAU2_CACHE = Path.home() / ".cache" / "tau2_bench"
_TAU2_TOOLS_URL = f"{_TAU2_REPO}/web/leaderboard/public/task-data/tools-data.json"

def _data_dir(domain: str) -> Path:
    local = os.environ.get(DATA_DIR_ENV)
    if local and (Path(local) / "tau2_bench" / domain).is_dir():
        return Path(local) / "tau2_bench" / domain
    return _TAU2_CACHE / domain


def _load_tau2_data(domain: str = "airline") -> tuple[list[dict[str, Any]], str, dict[str, Any], list[dict[str, Any]]]:
    """(tasks, policy text, db, OpenAI tool specs) of ``domain``; empty ones (with a warning) if a download fails."""
    cache_dir = _data_dir(domain)
    cache_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "tasks.json": f"{_TAU2_REPO}/data/tau2/domains/{domain}/tasks.json",
        "policy.md": f"{_TAU2_REPO}/data/tau2/domains/{domain}/policy.md",
        "db.json": f"{_TAU2_REPO}/data/tau2/domains/{domain}/db.json",
        "tools.json": _TAU2_TOOLS_URL,
    }
    for filename, url in files.items():
        local_path = cache_dir / filename
        if not local_path.exists():
            logger.info(f"Downloading tau2-bench {domain}/{filename}...")
            try:
                urllib.request.urlretrieve(url, local_path)
            except Exception as e:
                logger.warning(f"Failed to download {url}: {e}")
                return [], "", {}, []
    tasks = json.loads((cache_dir / "tasks.json").read_text())
    policy = (cache_dir / "policy.md").read_text()
    db = json.loads((cache_dir / "db.json").read_text())
    raw_tools = json.loads((cache_dir / "tools.json").read_text()).get(domain, {}).get("tools", [])
    tool_definitions = _convert_tau2_tools_to_openai(raw_tools)
    logger.info(f"Loaded tau2-bench {domain}: {len(tasks)} tasks, {len(tool_definitions)} tools")
    return tasks, policy, db, tool_definitions


class _Tau2Tool:
    """One domain tool (an OpenAI spec) run by the backend, in the Tool protocol."""

    def __init__(self, openai_spec: dict[str, Any], backend: ToolBackend) -> None:
        fn = openai_spec.get("function", openai_spec)
        self._name = fn["name"]
        self._description = fn.get("description", "")
        self._parameters_schema = fn.get("parameters", {})
        self._backend = backend

    @property
    def name(self) -> str:
        return str(self._name)

    @property
    def description(self) -> str:
        return str(self._description)

    @property
    def parameters_schema(self) -> dict[str, Any]:
        return dict(self._parameters_schema)

    def to_spec(self) -> ToolSpec:
        # The cookbook's key is ``parameters_schema`` (not ToolSpec's ``parameters``); kept so renderers see
        # the same declaration.
        return ToolSpec(  # type: ignore[typeddict-unknown-key,typeddict-item]
            name=self._name, description=self._description, parameters_schema=self._parameters_schema
        )

    async def run(self, input: ToolInput) -> ToolResult:
        result = self._backend.execute(self._name, input.arguments)
        return simple_tool_result(result, call_id=input.call_id or "", name=self._name)


class _FallbackCompleter:
    """Canned customer replies when no judge model is configured."""

    async def __call__(self, messages: list[Message]) -> dict[str, Any]:
        return {"content": "I see, thank you. Is there anything else you need from me?"}


def _simulation_prompt(user_scenario: dict[str, Any], history: list[Message], is_opening: bool) -> list[Message]:
    """The simulator's messages: the scenario, and (after the opening) the last 10 turns, roles swapped."""
    scenario_text = json.dumps(user_scenario, indent=2)[:3000]
    if is_opening:
        return [
            {
                "role": "system",
                "content": (
                    "You are simulating a customer calling for support. "
                    "Follow the scenario below exactly. Stay in character. "
                    "State your problem or request naturally as a customer would."
                ),
            },
            {
                "role": "user",
                "content": f"Scenario:\n{scenario_text}\n\nGenerate your opening message as the customer.",
            },
        ]
    messages: list[Message] = [
        {
            "role": "system",
            "content": (
                "You are simulating a customer in a support conversation. "
                f"Follow this scenario:\n{scenario_text}\n\n"
                "Respond naturally as the customer. If the agent has resolved "
                "your issue, say goodbye and end with USER_STOP. "
                "If the agent asks for information, provide it from your scenario. "
                "If you don't have the information, say you don't know."
            ),
        }
    ]
    for msg in history[-10:]:
        role = msg["role"]
        content = format_content_as_string(msg.get("content", ""))[:500]
        if role == "assistant":
            messages.append({"role": "user", "content": content})
        elif role == "user" and not content.startswith("[Tool"):
            messages.append({"role": "assistant", "content": content})
    messages.append({"role": "user", "content": "Continue as the customer. What do you say next?"})
    return messages


async def _simulate_user(
    user_completer: Any, user_scenario: dict[str, Any], history: list[Message], is_opening: bool = False
) -> str:
    """The customer's next message (a failed simulator: a reply built from the scenario, or a canned one)."""
    try:
        response = await user_completer(_simulation_prompt(user_scenario, history, is_opening))
        return str(response.get("content", "I see, thank you."))
    except Exception as e:
        logger.warning(f"User simulator failed: {e}")
        if is_opening:
            instructions = user_scenario.get("instructions", user_scenario)
            if isinstance(instructions, dict):
                task_instructions = instructions.get("task_instructions", "")
                reason = instructions.get("reason_for_call", "")
            else:
                task_instructions, reason = str(instructions), ""
            return f"Hi, {reason} {task_instructions}".strip() or "Hi, I need help with my account."
        return "I see, thank you. Is there anything else you need from me?"


@dataclass
class Tau2MessageEnv(MessageEnv):
    """The agent, the tools and the customer: tool calls run against the backend; a plain answer goes to
    the simulated customer; the episode ends on the agent's or the customer's end signal or at ``max_turns``."""

    tools: list[_Tau2Tool]
    initial_messages: list[Message]
    max_turns: int
    backend: ToolBackend
    expected_actions: list[dict[str, Any]]
    user_completer: Any
    user_scenario: dict[str, Any]
    example_id: str
    history: list[Message] = field(default_factory=list)
    _turn_count: int = 0
    _tool_dict: dict[str, _Tau2Tool] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._tool_dict = {t.name: t for t in self.tools}

    async def initial_observation(self) -> list[Message]:
        if not self.history:
            self.history = list(self.initial_messages)
        return self.history

    def _more(self, logs: dict[str, Any]) -> MessageStepResult:
        return MessageStepResult(
            reward=0.0, episode_done=False, next_messages=self.history, metrics={"turn": float(self._turn_count)},
            logs=logs,
        )

    async def step(self, message: Message) -> MessageStepResult:
        self._turn_count += 1
        logs: dict[str, Any] = {}
        self.history.append(message)
        tool_calls: list[ToolCall] = list(message.get("tool_calls") or [])
        if tool_calls:
            for tc in tool_calls:
                args: Any = tc.function.arguments
                if isinstance(args, str):
                    try:
                        args = json.loads(args)
                    except json.JSONDecodeError:
                        args = {}
                result = await self._tool_dict[tc.function.name].run(ToolInput(arguments=args, call_id=tc.id))
                self.history.extend(result.messages)
            return self._finalize(message, logs) if self._turn_count >= self.max_turns else self._more(logs)
        if self._is_agent_done(get_text_content(message)) or self._turn_count >= self.max_turns:
            return self._finalize(message, logs)
        user_response = await _simulate_user(self.user_completer, self.user_scenario, self.history)
        self.history.append({"role": "user", "content": user_response})
        if "user_stop" in user_response.lower():
            return self._finalize(message, logs)
        return self._more(logs)

    @staticmethod
    def _is_agent_done(text: str) -> bool:
        """AGENT_STOP / CONVERSATION_COMPLETE anywhere, or a final "goodbye." / "goodbye!"."""
        lower = text.lower().strip()
        if "agent_stop" in lower or "conversation_complete" in lower:
            return True
        return lower.endswith("goodbye.") or lower.endswith("goodbye!")

    def _finalize(self, last_message: Message, logs: dict[str, Any]) -> MessageStepResult:
        calls = self.backend.call_log
        score, action_metrics = _check_actions(calls, self.expected_actions)
        logs["example_id"] = self.example_id
        logs["num_turns"] = self._turn_count
        logs["predicted_actions"] = json.dumps(calls)[:500]
        logs["expected_actions"] = json.dumps(self.expected_actions)[:500]
        return MessageStepResult(
            reward=score,
            episode_done=True,
            next_messages=self.history,
            metrics={
                "correct": float(score >= 1.0),
                "action_score": score,
                **{k: float(v) for k, v in action_metrics.items()},
                "num_turns": float(self._turn_count),
            },
            logs=logs,
        )


class _Tau2BenchEnvFactory(Env):
    """Builds the backend, the customer's opening and the message env at the first observation."""

    def __init__(
        self,
        *,
        system_prompt: str,
        tool_definitions: list[dict[str, Any]],
        user_scenario: dict[str, Any],
        expected_actions: list[dict[str, Any]],
        db: dict[str, Any],
        user_completer: Any,
        renderer: Any,
        example_id: str,
        max_trajectory_tokens: int | None = None,
        max_generation_tokens: int | None = None,
    ):
        self.system_prompt = system_prompt
        self.tool_definitions = tool_definitions
        self.user_scenario = user_scenario
        self.expected_actions = expected_actions
        self.db = db
        self.user_completer = user_completer
        self.renderer = renderer
        self.example_id = example_id
        self.max_trajectory_tokens = max_trajectory_tokens
        self.max_generation_tokens = max_generation_tokens
        self._inner: EnvFromMessageEnv | None = None

    async def initial_observation(self) -> Any:
        backend = ToolBackend(self.db, self.tool_definitions)
        tools = [_Tau2Tool(spec, backend) for spec in self.tool_definitions]
        opening = await _simulate_user(self.user_completer, self.user_scenario, [], is_opening=True)
        initial_messages = self.renderer.create_conversation_prefix_with_tools(
            tools=[t.to_spec() for t in tools], system_prompt=self.system_prompt
        )
        initial_messages.append({"role": "user", "content": opening})
        msg_env = Tau2MessageEnv(
            tools=tools,
            initial_messages=initial_messages,
            max_turns=MAX_TURNS,
            backend=backend,
            expected_actions=self.expected_actions,
            user_completer=self.user_completer,
            user_scenario=self.user_scenario,
            example_id=self.example_id,
        )
        self._inner = wrap(
            self.renderer,
            msg_env,
            terminate_on_parse_error=False,
            max_trajectory_tokens=self.max_trajectory_tokens,
            max_generation_tokens=self.max_generation_tokens,
        )
        return await self._inner.initial_observation()

    async def step(self, action: Any, *, extra: Any = None) -> Any:
        assert self._inner is not None
        return await self._inner.step(action, extra=extra)


class Tau2BenchBenchmarkBuilder(BenchmarkBuilder):
    """tau2-Bench: multi-turn customer-service agent evaluation (experimental; the judge simulates the customer)."""

    name = "tau2_bench"
    experimental = True
    requires_judge = True
    multi_turn = True
    recommended_timeout = 600

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        tasks, policy, db, tool_definitions = _load_tau2_data("airline")
        if not tasks:
            logger.warning("Could not load tau2-bench data.")
            return []
        if not tool_definitions:
            logger.warning("tau2_bench: no tool definitions loaded.")
        if config.max_examples is not None:
            tasks = tasks[: config.max_examples]
        if config.judge_sampling_client is None:
            logger.warning(
                "tau2_bench: no judge_sampling_client configured. User simulation will use fallback responses. "
                "Set config.judge_sampling_client for proper evaluation."
            )
            user_completer: Any = _FallbackCompleter()
        else:
            user_completer = TinkerMessageCompleter(
                sampling_client=config.judge_sampling_client,
                renderer=config.judge_renderer or renderer,
                max_tokens=2048,
                temperature=0.7,
            )
        envs: list[Env] = []
        for task in tasks:
            task_id = task.get("id")
            user_scenario = task.get("user_scenario", {})
            if isinstance(user_scenario, str):
                user_scenario = {"task_instructions": user_scenario}
            criteria = task.get("evaluation_criteria", {})
            expected_actions = criteria.get("actions", []) if isinstance(criteria, dict) else []
            example_id = f"tau2_bench_{task_id}" if task_id is not None else make_example_id("tau2_bench", str(task))
            envs.append(
                _Tau2BenchEnvFactory(
                    system_prompt=config.system_prompt or policy[:8000],
                    tool_definitions=tool_definitions,
                    user_scenario=user_scenario,
                    expected_actions=expected_actions,
                    db=db,
                    user_completer=user_completer,
                    renderer=renderer,
                    example_id=example_id,
                    max_trajectory_tokens=config.max_trajectory_tokens,
                    max_generation_tokens=config.max_generation_tokens,
                )
            )
        return envs


from . import register  # noqa: E402

register(Tau2BenchBenchmarkBuilder())
