"""MBPP (``google-research-datasets/mbpp`` sanitized, test): the generated function runs with the task's
assertion tests in a sandbox (``BenchmarkConfig.sandbox_factory``); pass@1."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...renderers.base import Message
from ...renderers.content import get_text_content
from ...rl.message_env import MessageEnv, MessageStepResult
from ...rl.types import Env
from ._common import (
    SandboxMixin,
    build_messages,
    extract_python_code,
    get_sandbox_factory,
    limit_dataset,
    load_benchmark_dataset,
    make_example_id,
)
from ._single_turn import wrap
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)


class MBPPMessageEnv(SandboxMixin, MessageEnv):
    """One MBPP problem: a sandbox made at the first observation runs ``code + tests`` (exit 0 = pass)."""

    def __init__(
        self,
        prompt: str,
        task_prompt: str,
        test_list: list[str],
        sandbox_factory: Any,
        example_id: str = "",
        system_prompt: str | None = None,
    ):
        self.prompt = prompt
        self.task_prompt = task_prompt
        self.test_list = test_list
        self.sandbox_factory = sandbox_factory
        self.example_id = example_id
        self.system_prompt = system_prompt

    async def initial_observation(self) -> list[Message]:
        self.sandbox = await self.sandbox_factory()
        return build_messages(self.prompt, self.system_prompt)

    async def step(self, message: Message) -> MessageStepResult:
        assert self.sandbox is not None
        response = get_text_content(message)
        code = extract_python_code(response)
        passed = False
        try:
            await self.sandbox.write_file("/tmp/test_code.py", code + "\n\n" + "\n".join(self.test_list))
            result = await self.sandbox.run_command("python3 /tmp/test_code.py", timeout=15)
            passed = result.exit_code == 0
        except Exception:
            passed = False
        await self.cleanup()  # single turn: the episode is over
        return MessageStepResult(
            reward=1.0 if passed else 0.0,
            episode_done=True,
            next_messages=[],
            metrics={"correct": float(passed)},
            logs={
                "example_id": self.example_id,
                "input": self.task_prompt[:200],
                "output": response[:500],
                "code": code[:500],
            },
        )


class MBPPBenchmarkBuilder(BenchmarkBuilder):
    """MBPP: Mostly Basic Python Programming with execution-based testing."""

    name = "mbpp"
    requires_sandbox = True

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("google-research-datasets/mbpp", name="sanitized"),
                           config.max_examples)
        factory = get_sandbox_factory(config)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            task_prompt = row.get("prompt", row.get("text", ""))
            tests = row.get("test_list", [])
            if not task_prompt or not tests:
                continue
            prompt = (
                f"{task_prompt}\n\n"
                f"Example test: `{tests[0]}`\n\n"
                "Write a Python function that satisfies the requirements. "
                "Provide ONLY the function definition in a ```python code block."
            )
            task_id = row.get("task_id")
            example_id = f"mbpp_{task_id}" if task_id is not None else make_example_id("mbpp", task_prompt)
            envs.append(wrap(renderer, MBPPMessageEnv(prompt, task_prompt, tests, factory, example_id,
                                                      config.system_prompt)))
        return envs


from . import register  # noqa: E402

register(MBPPBenchmarkBuilder())
