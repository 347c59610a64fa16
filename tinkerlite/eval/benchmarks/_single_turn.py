"""The single-turn graded env every simple benchmark uses: one prompt, one answer, reward 1/0."""

from __future__ import annotations

from collections.abc import Callable

from ...renderers.base import Message
from ...renderers.content import get_text_content
from ...rl.message_env import EnvFromMessageEnv, MessageEnv, MessageStepResult
from ._common import build_messages, extract_mcq_answer

Grade = Callable[[str], tuple[bool, str]]
"""response text -> (correct, what was extracted)."""


class GradedMessageEnv(MessageEnv):
    """Grades one response with the benchmark's grader; logs as the cookbook's benchmark envs do."""

    def __init__(
        self, prompt: str, expected: str, grade: Grade, *, example_id: str = "", system_prompt: str | None = None,
        log_input: str | None = None, extra_logs: dict[str, str] | None = None,
    ) -> None:
        self.prompt = prompt
        self.expected = expected
        self.grade = grade
        self.example_id = example_id
        self.system_prompt = system_prompt
        self.log_input = prompt if log_input is None else log_input
        self.extra_logs = extra_logs or {}
        """Logged between ``extracted`` and ``output`` (e.g. a subject), as the cookbook orders them."""

    async def initial_observation(self) -> list[Message]:
        return build_messages(self.prompt, self.system_prompt)

    async def step(self, message: Message) -> MessageStepResult:
        response = get_text_content(message)
        correct, extracted = self.grade(response)
        return MessageStepResult(
            reward=1.0 if correct else 0.0,
            episode_done=True,
            next_messages=[],
            metrics={"correct": float(correct)},
            logs={
                "example_id": self.example_id,
                "input": self.log_input[:200],
                "expected": self.expected,
                "extracted": extracted,
                **self.extra_logs,
                "output": response[:500],
            },
        )


class MCQMessageEnv(GradedMessageEnv):
    """A multiple-choice question: correct when the letter extracted from the response (one of
    ``valid_letters``) is the expected one. Serves every MCQ benchmark's env (GPQA, MMLU-*, C-Eval, SuperGPQA)."""

    valid_letters: str = "ABCD"

    def _grade(self, response: str) -> tuple[bool, str]:
        extracted = extract_mcq_answer(response, self.valid_letters)
        return extracted == self.expected, extracted


def wrap(
    renderer: object,
    msg_env: MessageEnv,
    *,
    terminate_on_parse_error: bool = True,
    max_trajectory_tokens: int | None = None,
    max_generation_tokens: int | None = None,
) -> EnvFromMessageEnv:
    """The token-level env (no penalty for parse failures or overflow: a benchmark scores 0 there).
    Agentic harnesses keep going after a parse error and bound the trajectory and each generation."""
    return EnvFromMessageEnv(
        renderer=renderer,  # type: ignore[arg-type]
        message_env=msg_env,
        failed_parse_reward=0.0,
        terminate_on_parse_error=terminate_on_parse_error,
        max_trajectory_tokens=max_trajectory_tokens,
        max_generation_tokens=max_generation_tokens,
        context_overflow_reward=0.0,
    )
