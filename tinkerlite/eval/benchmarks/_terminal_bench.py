"""Terminal-Bench (``terminal_bench``): multi-turn terminal tasks, as the cookbook's experimental ``_terminal_bench``.

Each task (``ia03/terminal-bench`` on HF, or a local JSONL copy; its ``task_yaml`` read with PyYAML, its
gzipped tar ``archive`` unpacked into ``/app``) is solved by the model through a ``bash`` tool inside a
sandbox, for up to 100 turns, and graded by the task's ``run-tests.sh`` (exit code 0: solved). The sandbox
comes from ``BenchmarkConfig.sandbox_factory``: an async callable giving an object with the cookbook's
``SandboxInterface`` methods used here, ``run_command(command, workdir=None, timeout=60,
max_output_bytes=None)`` (a result with ``stdout``, ``stderr``, ``exit_code``), ``write_file(path, content,
executable=False)`` and ``cleanup()``; tinkerlite bundles no Modal or Docker backend, and without a factory
the runner says so. The renderer must declare tools (``create_conversation_prefix_with_tools``).
"""

from __future__ import annotations

import gzip
import importlib
import io
import json
import logging
import tarfile
from collections.abc import Sequence
from typing import Annotated, Any

from ...renderers.base import Message
from ...rl.message_env import EnvFromMessageEnv
from ...rl.types import Env
from ...tool_use.agent_tool_message_env import AgentToolMessageEnv
from ...tool_use.tools import simple_tool_result, tool
from ...tool_use.types import ToolResult
from ._common import SandboxMixin, get_sandbox_factory, limit_dataset, load_benchmark_dataset, make_example_id
from ._single_turn import wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

MAX_TURNS = 100
"""Maximum number of agent turns before forced termination."""

_SYSTEM_PROMPT = """\
You are an expert Linux/Unix systems administrator solving a terminal task \
in a sandboxed environment.

For each response:
1. Include reasoning explaining what you're trying to accomplish
2. Use the bash tool to execute commands

## Workflow

1. Read the task description carefully
2. Plan your approach
3. Execute commands step by step
4. Verify your work before stopping

## Important Rules

- Your working directory is /app
- You can install packages, create files, run scripts
- Use non-interactive commands only (no vi, nano, etc.)
- Use sed, awk, or python for file editing
- When you are done, stop calling tools

## Environment

- Fresh Linux environment with bash, python3, git, curl, build-essential
- PAGER=cat (no interactive paging)"""


class _BashTool:
    """The agent's one tool: a command in the sandbox (``/app``, 60 s), its output as JSON (stdout kept to
    10000 characters, head and tail; stderr to 2000)."""

    def __init__(self, sandbox: Any) -> None:
        self._sandbox = sandbox
        self.commands_executed: list[str] = []

    @tool
    async def bash(self, command: Annotated[str, "The bash command to execute."]) -> ToolResult:
        """Execute a bash command in the sandbox environment."""
        self.commands_executed.append(command)
        result = await self._sandbox.run_command(
            f"PAGER=cat MANPAGER=cat {command}", workdir="/app", timeout=60, max_output_bytes=16000
        )
        stdout = result.stdout
        if len(stdout) > 10000:
            stdout = f"{stdout[:5000]}\n\n[... {len(stdout) - 10000} chars elided ...]\n\n{stdout[-5000:]}"
        output = json.dumps({"exit_code": result.exit_code, "stdout": stdout[:10000], "stderr": result.stderr[:2000]})
        return simple_tool_result(output)


class _TerminalBenchReward:
    """Runs the task's tests in the sandbox once the agent stops: reward 1 when they exit 0."""

    def __init__(self, sandbox: Any, test_script: str) -> None:
        self._sandbox = sandbox
        self._test_script = test_script

    async def __call__(self, history: list[Message]) -> tuple[float, dict[str, float]]:
        if not self._test_script:
            return 0.0, {"no_test_script": 1.0}
        try:
            command = "cd /app && TEST_DIR=/app/tests bash run_tests.sh 2>&1"
            result = await self._sandbox.run_command(command, timeout=120)
            passed = result.exit_code == 0
        except Exception as e:
            logger.warning(f"terminal_bench test execution error: {e}")
            passed = False
        num_commands = sum(1 for m in history if m.get("role") == "assistant" and m.get("tool_calls"))
        num_turns = sum(1 for m in history if m.get("role") == "assistant")
        return (
            1.0 if passed else 0.0,
            {"correct": float(passed), "num_turns": float(num_turns), "num_commands": float(num_commands)},
        )


def _instruction_from_yaml(task_yaml_str: str) -> str:
    """The ``instruction`` of a task.yaml ("" when it does not parse); needs PyYAML."""
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise ImportError("terminal_bench reads each task's task_yaml with PyYAML: pip install pyyaml") from None
    try:
        task_yaml = yaml.safe_load(task_yaml_str)
    except yaml.YAMLError:
        return ""
    return str(task_yaml.get("instruction", "")) if isinstance(task_yaml, dict) else ""


def _files_from_archive(archive_data: Any) -> tuple[str, dict[str, str]]:
    """(run-tests.sh, setup files except ``solution*``) from a gzipped tar; ("", {}) plus a warning if broken."""
    test_script = ""
    setup_files: dict[str, str] = {}
    try:
        raw = archive_data if isinstance(archive_data, bytes) else bytes(archive_data)
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                name = member.name.lstrip("./")
                f = tar.extractfile(member)
                if f is None:
                    continue
                try:
                    content = f.read().decode("utf-8", errors="replace")
                except Exception:
                    continue
                if name == "run-tests.sh" or name.endswith("/run-tests.sh"):
                    test_script = content
                if not name.startswith("solution"):
                    setup_files[name] = content
    except Exception as e:
        logger.warning(f"terminal_bench: failed to extract archive: {e}")
    return test_script, setup_files


def _parse_task(row: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """A dataset row as (instruction, test script, setup files), with the cookbook's fallbacks."""
    task_description = ""
    test_script = ""
    setup_files: dict[str, str] = {}
    task_yaml_str = row.get("task_yaml", "")
    if task_yaml_str:
        task_description = _instruction_from_yaml(task_yaml_str)
    if row.get("archive") is not None:
        test_script, setup_files = _files_from_archive(row["archive"])
    if not task_description:
        task_description = row.get("task", row.get("instruction", row.get("description", "")))
    if not test_script:
        test_script = str(row.get("test_script", row.get("run_tests", "")))
    return task_description, test_script, setup_files


class TerminalBenchBenchmarkBuilder(BenchmarkBuilder):
    """Terminal-Bench: multi-turn terminal task solving (experimental; needs a sandbox)."""

    name = "terminal_bench"
    experimental = True
    requires_sandbox = True
    multi_turn = True
    recommended_timeout = 1800

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("ia03/terminal-bench"), config.max_examples)
        sandbox_factory = get_sandbox_factory(
            config, packages=["git", "python3", "python3-pip", "curl", "wget", "build-essential"]
        )
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            task_id = row.get("task_id", "")
            task_description, test_script, setup_files = _parse_task(row)
            if not task_description:
                logger.warning(f"terminal_bench: skipping task {task_id} — no instruction found")
                continue
            example_id = f"terminal_bench_{task_id}" if task_id else make_example_id("terminal_bench", task_description)
            envs.append(
                _TerminalBenchEnvFactory(
                    task_description=task_description,
                    test_script=test_script,
                    setup_files=setup_files,
                    sandbox_factory=sandbox_factory,
                    renderer=renderer,
                    example_id=example_id,
                    system_prompt=config.system_prompt,
                    max_trajectory_tokens=config.max_trajectory_tokens,
                    max_generation_tokens=config.max_generation_tokens,
                )
            )
        return envs


class _TerminalBenchEnvFactory(SandboxMixin, Env):
    """Creates the sandbox, writes the task's files, then runs the agent loop (``EnvFromMessageEnv`` over
    ``AgentToolMessageEnv``) from the first observation on."""

    def __init__(
        self,
        task_description: str,
        test_script: str,
        setup_files: dict[str, str],
        sandbox_factory: Any,
        renderer: Any,
        example_id: str,
        system_prompt: str | None = None,
        max_trajectory_tokens: int | None = None,
        max_generation_tokens: int | None = None,
    ):
        self.task_description = task_description
        self.test_script = test_script
        self.setup_files = setup_files
        self.sandbox_factory = sandbox_factory
        self.renderer = renderer
        self.example_id = example_id
        self.system_prompt = system_prompt
        self.max_trajectory_tokens = max_trajectory_tokens
        self.max_generation_tokens = max_generation_tokens
        self._inner: EnvFromMessageEnv | None = None

    async def initial_observation(self) -> Any:
        self.sandbox = await self.sandbox_factory()
        assert self.sandbox is not None
        await self.sandbox.run_command("mkdir -p /app/tests", timeout=10)
        for filepath, content in self.setup_files.items():
            try:
                dest = f"/app/{filepath}"
                parent = "/".join(dest.split("/")[:-1])
                if parent:
                    await self.sandbox.run_command(f"mkdir -p {parent}", timeout=10)
                await self.sandbox.write_file(dest, content, executable=filepath.endswith(".sh"))
            except Exception as e:
                logger.warning(f"Failed to write setup file {filepath}: {e}")
        if self.test_script:
            await self.sandbox.write_file("/app/run_tests.sh", self.test_script, executable=True)
        bash_tool = _BashTool(self.sandbox)
        initial_messages = self.renderer.create_conversation_prefix_with_tools(
            tools=[bash_tool.bash.to_spec()], system_prompt=self.system_prompt or _SYSTEM_PROMPT
        )
        initial_messages.append({"role": "user", "content": f"## Task\n{self.task_description}"})
        msg_env = AgentToolMessageEnv(
            tools=[bash_tool.bash],
            initial_messages=initial_messages,
            max_turns=MAX_TURNS,
            reward_fn=_TerminalBenchReward(self.sandbox, self.test_script),
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
        result = await self._inner.step(action, extra=extra)
        if result.episode_done:
            result.logs["example_id"] = self.example_id
        return result


from . import register  # noqa: E402

register(TerminalBenchBenchmarkBuilder())
