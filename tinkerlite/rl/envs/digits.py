"""The tiny model's learnable task: answer a short prompt with digits only.

Why this task: the built-in ``tinkerlite/tiny-chat`` model starts from random weights over a 512-entry
byte vocabulary, so anything that needs language (arithmetic, GSM8K, the role_colon stop sequence) has
~0 reward and no gradient signal. "Fraction of the reply's bytes that are ASCII digits" starts near
10/512 ≈ 2%, differs inside every group, and a LoRA learns it in a handful of steps — on 2 CPU cores,
about a minute. It exercises the whole RL path (sampling, group-centred advantages, importance sampling,
new sampler each step) with a reward anyone can check by eye.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from ...types import ModelInput
from ...utils.config import configclass
from ..problem_env import ProblemGroupBuilder
from ..types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
)

__all__ = ["DigitsDataset", "DigitsDatasetBuilder", "DigitsEnv", "digit_fraction"]

PROMPTS = ("Digits:", "Number:", "Code:", "PIN:")


def digit_fraction(tokens: Sequence[int]) -> float:
    """Share of tokens that are the bytes ``0``..``9`` (0 for an empty reply)."""
    if not tokens:
        return 0.0
    return sum(1 for t in tokens if 48 <= t <= 57) / len(tokens)


class DigitsEnv(Env):
    def __init__(self, prompt: str, tokenizer: Any) -> None:
        self.prompt, self.tokenizer = prompt, tokenizer

    async def initial_observation(self) -> tuple[ModelInput, list[int]]:
        return ModelInput.from_ints(list(self.tokenizer.encode(self.prompt, add_special_tokens=False))), []

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        frac = digit_fraction(action)
        return StepResult(
            reward=frac,
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=[],
            metrics={"digit_frac": frac, "all_digits": float(frac == 1.0)},
        )


class DigitsDataset(RLDataset):
    def __init__(self, batch_size: int, group_size: int, tokenizer: Any, n_batches: int) -> None:
        self.batch_size, self.group_size, self.tokenizer, self.n_batches = batch_size, group_size, tokenizer, n_batches

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        return [
            ProblemGroupBuilder(
                partial(DigitsEnv, PROMPTS[(index * self.batch_size + j) % len(PROMPTS)], self.tokenizer),
                self.group_size,
                dataset_name="digits",
            )
            for j in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return self.n_batches


@configclass
class DigitsDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    group_size: int
    n_batches: int
    model_name_for_tokenizer: str = "tinkerlite/tiny-chat"
    n_test_batches: int = 1

    async def __call__(self) -> tuple[DigitsDataset, DigitsDataset | None]:
        from ...tokenizer_utils import get_tokenizer

        tok = get_tokenizer(self.model_name_for_tokenizer)
        test = DigitsDataset(len(PROMPTS), 4, tok, self.n_test_batches) if self.n_test_batches > 0 else None
        return DigitsDataset(self.batch_size, self.group_size, tok, self.n_batches), test
