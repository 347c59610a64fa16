"""SWE-bench Verified (``swe_bench``): repository bug fixing by an agent, as the cookbook's experimental ``_swe_bench``.

Each problem (``princeton-nlp/SWE-bench_Verified`` on HF, or a local JSONL copy) is checked out in a sandbox
(``git clone --depth=50 https://github.com/<repo>.git /workspace/repo``, fetch and checkout of the base
commit, the test patch applied), the model fixes it through a ``bash`` tool for up to 100 turns, and the
``fail_to_pass`` tests are run with pytest (all pass: resolved). The sandbox comes from
``BenchmarkConfig.sandbox_factory``: an async callable giving an object with the cookbook's
``SandboxInterface`` methods used here, ``run_command(command, workdir=None, timeout=60,
max_output_bytes=None)`` (a result with ``stdout``, ``stderr``, ``exit_code``), ``write_file(path,
content, executable=False)`` and ``cleanup()``; its image needs git, python3 and pip and network access to
GitHub. tinkerlite bundles no Modal backend; without a factory the runner says so. The renderer must
declare tools (``create_conversation_prefix_with_tools``).
"""

from __future__ import annotations

import json
import logging
import shlex
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
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)

MAX_TURNS = 100
"""Maximum number of agent turns before forced termination."""

_SYSTEM_PROMPT = """\
You are an autonomous software engineer. Your task is to fix a bug in a code \
repository by editing source files.

IMPORTANT: You MUST call the bash tool in EVERY response. If you respond \
without a tool call, the task will end immediately. Keep working until you \
have fixed the issue.

## Workflow

1. **Explore**: Find relevant files with grep and find
2. **Reproduce**: Write and run a script that triggers the bug
3. **Edit**: Fix the source code using sed or a python script
4. **Verify**: Run your reproduction script to confirm the fix
5. **Test**: Run the test suite to check for regressions

## Editing files

Use sed for small edits:
```
cd /workspace/repo && sed -i 's/old_text/new_text/g' path/to/file.py
```

Use a python script for larger edits:
```
cd /workspace/repo && python3 -c "
content = open('path/to/file.py').read()
content = content.replace('old_text', 'new_text')
open('path/to/file.py', 'w').write(content)
"
```

Use cat with heredoc to create new files:
```
cat <<'EOF' > /workspace/repo/path/to/new_file.py
import foo
EOF
```

## Rules

- The repository is at /workspace/repo
- ALWAYS prefix commands with `cd /workspace/repo &&`
- MODIFY only source code files, NOT tests or configuration
- Each command runs in a fresh subshell — cd is not persistent
- PAGER=cat (no interactive paging)
- Do NOT use interactive editors (vi, nano, etc.)"""


def _parse_test_ids(raw: Any) -> list[str]:
    """``fail_to_pass`` / ``pass_to_pass``: a list, a JSON list in a string, or one test id."""
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, list):
                return parsed
        except (json.JSONDecodeError, TypeError):
            pass
        if raw.strip():
            return [raw.strip()]
    return []


class _SWEBashTool:
    """The agent's one tool: a command in ``/workspace/repo`` (120 s); stdout kept to 10000 characters
    (head and tail, with a note), stderr to 4000, returned as JSON."""

    def __init__(self, sandbox: Any) -> None:
        self._sandbox = sandbox

    @tool
    async def bash(self, command: Annotated[str, "The bash command to execute."]) -> ToolResult:
        """Execute a bash command in the repository sandbox."""
        wrapped = f"PAGER=cat MANPAGER=cat PIP_PROGRESS_BAR=off TQDM_DISABLE=1 {command}"
        result = await self._sandbox.run_command(
            wrapped, workdir="/workspace/repo", timeout=120, max_output_bytes=16000
        )
        stdout, stderr = result.stdout, result.stderr
        max_chars = 10000
        if len(stdout) > max_chars:
            stdout = (
                f"{stdout[:5000]}\n\n[... {len(stdout) - max_chars} characters elided ...]\n\n{stdout[-5000:]}\n"
                "[Output truncated. Use head/tail/grep for smaller output.]"
            )
        if len(stderr) > 4000:
            stderr = stderr[:4000] + "\n[stderr truncated]"
        return simple_tool_result(json.dumps({"exit_code": result.exit_code, "stdout": stdout, "stderr": stderr}))


class _SWEBenchReward:
    """Runs the ``fail_to_pass`` tests in one pytest call once the agent stops: reward 1 when all pass."""

    def __init__(self, sandbox: Any, fail_to_pass: list[str], instance_id: str) -> None:
        self._sandbox = sandbox
        self._fail_to_pass = fail_to_pass
        self._instance_id = instance_id

    async def __call__(self, history: list[Message]) -> tuple[float, dict[str, float]]:
        if not self._fail_to_pass:
            return 0.0, {"no_tests": 1.0}
        test_args = " ".join(shlex.quote(t) for t in self._fail_to_pass)
        try:
            result = await self._sandbox.run_command(
                f"cd /workspace/repo && python -m pytest {test_args} --tb=short 2>&1", timeout=120
            )
            all_passed = result.exit_code == 0
        except Exception as e:
            logger.warning(f"swe_bench test error: {e}")
            all_passed = False
        num_turns = sum(1 for m in history if m.get("role") == "assistant")
        return (
            1.0 if all_passed else 0.0,
            {
                "correct": float(all_passed),
                "num_turns": float(num_turns),
                "num_tests_total": float(len(self._fail_to_pass)),
            },
        )


class _SWEBenchEnvFactory(SandboxMixin, Env):
    """Creates the sandbox, checks the repository out, applies the test patch, then runs the agent loop
    (``EnvFromMessageEnv`` over ``AgentToolMessageEnv``) from the first observation on."""

    def __init__(
        self,
        *,
        repo: str,
        base_commit: str,
        problem_statement: str,
        hints_text: str,
        instance_id: str,
        fail_to_pass: list[str],
        test_patch: str,
        sandbox_factory: Any,
        renderer: Any,
        example_id: str,
        system_prompt: str | None = None,
        max_trajectory_tokens: int | None = None,
        max_generation_tokens: int | None = None,
    ):
        self.repo = repo
        self.base_commit = base_commit
        self.problem_statement = problem_statement
        self.hints_text = hints_text
        self.instance_id = instance_id
        self.fail_to_pass = fail_to_pass
        self.test_patch = test_patch
        self.sandbox_factory = sandbox_factory
        self.renderer = renderer
        self.example_id = example_id
        self.system_prompt = system_prompt
        self.max_trajectory_tokens = max_trajectory_tokens
        self.max_generation_tokens = max_generation_tokens
        self._inner: EnvFromMessageEnv | None = None

    async def _checkout(self) -> None:
        """Clone, fetch and check out the base commit (a failed step: RuntimeError; the sandbox is cleaned up)."""
        assert self.sandbox is not None
        try:
            repo_url = f"https://github.com/{shlex.quote(self.repo)}.git"
            commit = shlex.quote(self.base_commit)
            for cmd in (
                f"git clone --depth=50 {repo_url} /workspace/repo",
                f"cd /workspace/repo && git fetch --depth=50 origin {commit}",
                f"cd /workspace/repo && git checkout {commit}",
            ):
                result = await self.sandbox.run_command(cmd, timeout=300)
                if result.exit_code != 0:
                    raise RuntimeError(
                        f"swe_bench setup failed (exit {result.exit_code}): {cmd[:100]}  stderr={result.stderr[:300]}"
                    )
        except Exception:
            await self.cleanup()
            raise

    async def _apply_test_patch(self) -> None:
        """``git apply`` the test patch, with ``--3way`` as the fallback (a failure is only logged)."""
        assert self.sandbox is not None
        if not self.test_patch.strip():
            return
        try:
            await self.sandbox.write_file("/workspace/test_patch.diff", self.test_patch)
            apply = "cd /workspace/repo && git apply /workspace/test_patch.diff"
            result = await self.sandbox.run_command(apply, timeout=60)
            if result.exit_code != 0:
                await self.sandbox.run_command(
                    "cd /workspace/repo && git apply --3way /workspace/test_patch.diff", timeout=60
                )
        except Exception as e:
            logger.warning(f"swe_bench: failed to apply test patch: {e}")

    async def initial_observation(self) -> Any:
        self.sandbox = await self.sandbox_factory()
        assert self.sandbox is not None
        await self._checkout()
        await self._apply_test_patch()
        bash_tool = _SWEBashTool(self.sandbox)
        hints = f"\n\n## Hints\n{self.hints_text[:2000]}" if self.hints_text.strip() else ""
        user_prompt = (
            f"## Repository: {self.repo}\n\n"
            f"## Problem Statement\n{self.problem_statement}"
            f"{hints}\n\n"
            f"The repository is checked out at `/workspace/repo`. "
            f"Explore the codebase, find and fix the issue."
        )
        initial_messages = self.renderer.create_conversation_prefix_with_tools(
            tools=[bash_tool.bash.to_spec()], system_prompt=self.system_prompt or _SYSTEM_PROMPT
        )
        initial_messages.append({"role": "user", "content": user_prompt})
        msg_env = AgentToolMessageEnv(
            tools=[bash_tool.bash],
            initial_messages=initial_messages,
            max_turns=MAX_TURNS,
            reward_fn=_SWEBenchReward(self.sandbox, self.fail_to_pass, self.instance_id),
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
            result.logs["instance_id"] = self.instance_id
            result.logs["repo"] = self.repo
        return result


class SWEBenchBenchmarkBuilder(BenchmarkBuilder):
    """SWE-bench Verified: multi-turn software engineering (experimental; needs a sandbox)."""

    name = "swe_bench"
    experimental = True
    requires_sandbox = True
    multi_turn = True
    recommended_timeout = 1800

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("princeton-nlp/SWE-bench_Verified"), config.max_examples)
        sandbox_factory = get_sandbox_factory(config, packages=["git", "python3", "python3-pip", "python3-venv"])
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            instance_id = row.get("instance_id", "")
            problem_statement = row.get("problem_statement", "")
            base_commit = row.get("base_commit", "")
            fail_to_pass = _parse_test_ids(row.get("fail_to_pass", row.get("FAIL_TO_PASS", "[]")))
            if not problem_statement:
                logger.warning(f"swe_bench: skipping {instance_id} — no problem statement")
                continue
            if not base_commit:
                logger.warning(f"swe_bench: skipping {instance_id} — no base_commit")
                continue
            example_id = f"swe_bench_{instance_id}" if instance_id else make_example_id("swe_bench", problem_statement)
            envs.append(
                _SWEBenchEnvFactory(
                    repo=row.get("repo", "unknown"),
                    base_commit=base_commit,
                    problem_statement=problem_statement,
                    hints_text=row.get("hints_text", ""),
                    instance_id=instance_id,
                    fail_to_pass=fail_to_pass,
                    test_patch=row.get("test_patch", ""),
                    sandbox_factory=sandbox_factory,
                    renderer=renderer,
                    example_id=example_id,
                    system_prompt=config.system_prompt,
                    max_trajectory_tokens=config.max_trajectory_tokens,
                    max_generation_tokens=config.max_generation_tokens,
                )
            )
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Resolve rate (the score) and the mean number of turns."""
        num_correct = sum(1 for r in rewards if r > 0)
        resolve_rate = num_correct / len(rewards) if rewards else 0.0
        avg_turns = sum(m.get("num_turns", 0) for m in metrics_list) / len(metrics_list) if metrics_list else 0.0
        return BenchmarkResult(
            name=self.name,
            score=resolve_rate,
            num_examples=len(rewards),
            num_correct=num_correct,
            metrics={"swe_bench/resolve_rate": resolve_rate, "swe_bench/avg_turns": avg_turns},
        )


from . import register  # noqa: E402

register(SWEBenchBenchmarkBuilder())
