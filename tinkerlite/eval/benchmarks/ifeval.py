"""IFEval (``google/IFEval`` train, 541 prompts): every instruction of a prompt verified
(:mod:`._ifeval_verify`); strict accuracy = all satisfied, loose = mean fraction satisfied."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ...renderers.base import Message
from ...renderers.content import get_text_content
from ...rl.message_env import MessageEnv, MessageStepResult
from ...rl.types import Env
from ._common import build_messages, limit_dataset, load_benchmark_dataset, parse_kwargs
from ._ifeval_verify import strict_loose_result
from ._single_turn import wrap
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)


class IFEvalMessageEnv(MessageEnv):
    """One prompt with several instruction constraints."""

    def __init__(
        self,
        messages: list[Message],
        instruction_ids: list[str],
        kwargs_list: list[dict[str, Any]],
        example_id: str = "",
    ):
        self._messages = messages
        self.instruction_ids = instruction_ids
        self.kwargs_list = kwargs_list
        self.example_id = example_id

    async def initial_observation(self) -> list[Message]:
        return self._messages

    async def step(self, message: Message) -> MessageStepResult:
        from ._ifeval_verify import verify_all_instructions

        response = get_text_content(message)
        fraction, _ = verify_all_instructions(response, self.instruction_ids, self.kwargs_list)
        correct = fraction == 1.0
        return MessageStepResult(
            reward=1.0 if correct else 0.0,
            episode_done=True,
            next_messages=[],
            metrics={"correct": float(correct), "fraction": fraction},
            logs={
                "example_id": self.example_id,
                "input": str(self._messages[-1]["content"])[:200] if self._messages else "",
                "fraction": fraction,
                "output": response[:500],
            },
        )


class IFEvalBenchmarkBuilder(BenchmarkBuilder):
    """IFEval: instruction-following evaluation with multi-constraint verification."""

    name = "ifeval"

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = limit_dataset(load_benchmark_dataset("google/IFEval", split="train"), config.max_examples)
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            ids = row["instruction_id_list"]
            msg_env = IFEvalMessageEnv(
                build_messages(row["prompt"], config.system_prompt),
                ids,
                parse_kwargs(row["kwargs"], ids),
                example_id=f"ifeval_{row['key']}",
            )
            envs.append(wrap(renderer, msg_env))
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Strict and loose accuracy."""
        return strict_loose_result(self.name, rewards, metrics_list)


from . import register  # noqa: E402

register(IFEvalBenchmarkBuilder())
