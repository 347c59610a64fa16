"""Guess-the-number: a multi-turn environment (the env answers "higher"/"lower" until the guess is right).

Each turn's observation is the previous one plus the model's guess and the env's reply, so a whole
episode merges into one training datum (the extension property). Reward: 1 on the turn the number is
found, 0 otherwise; ``max_turns`` ends the episode (``stop/max_turns``) with ``found = 0``. A reply
with no integer counts as a wrong guess and ``malformed`` in the metrics.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from ...types import ModelInput
from ...utils.config import configclass
from .. import types as rl_types
from ..problem_env import ProblemGroupBuilder
from ..types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    Metrics,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
)

__all__ = ["GuessNumberDataset", "GuessNumberDatasetBuilder", "GuessNumberEnv"]

_INT = re.compile(r"-?\d+")


class GuessNumberEnv(Env):
    def __init__(self, target: int, tokenizer: Any, low: int = 1, high: int = 10, max_turns: int = 4) -> None:
        self.target, self.tokenizer, self.low, self.high, self.max_turns = target, tokenizer, low, high, max_turns
        self.turns = 0
        self.tokens: list[int] = []

    @property
    def stop(self) -> list[str]:
        return ["\n"]

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    async def initial_observation(self) -> tuple[ModelInput, list[str]]:
        self.tokens = self._encode(f"I picked a number from {self.low} to {self.high}. Guess it.\nGuess: ")
        return ModelInput.from_ints(self.tokens), self.stop

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        self.turns += 1
        text = self.tokenizer.decode(list(action))
        found = _INT.search(text)
        guess = int(found.group()) if found else None
        correct = guess == self.target
        done = correct or self.turns >= self.max_turns
        metrics: Metrics = {"malformed": float(guess is None), "found": float(correct)}
        if done:
            metrics["turns_used"] = float(self.turns)
            metrics[f"{rl_types.STOP_METRIC_PREFIX}{'completed' if correct else 'max_turns'}"] = 1.0
        reply = "Correct!" if correct else "Higher." if guess is not None and guess < self.target else "Lower."
        if guess is None:
            reply = "That is not a number."
        sep = [] if list(action)[-1:] == self._encode("\n") else self._encode("\n")
        self.tokens = self.tokens + list(action) + sep + self._encode(f"{reply}\nGuess: ")
        return StepResult(
            reward=1.0 if correct else 0.0,
            episode_done=done,
            next_observation=ModelInput.from_ints(self.tokens) if not done else ModelInput.empty(),
            next_stop_condition=self.stop,
            metrics=metrics,
        )


class GuessNumberDataset(RLDataset):
    def __init__(
        self, batch_size: int, group_size: int, tokenizer: Any, n_batches: int = 100, seed: int = 0, max_turns: int = 4
    ) -> None:
        self.batch_size, self.group_size, self.tokenizer = batch_size, group_size, tokenizer
        self.n_batches, self.seed, self.max_turns = n_batches, seed, max_turns

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        rng = random.Random(self.seed * 1_000_003 + index)
        return [
            ProblemGroupBuilder(
                partial(GuessNumberEnv, rng.randint(1, 10), self.tokenizer, max_turns=self.max_turns),
                self.group_size,
                dataset_name="guess_number",
            )
            for _ in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return self.n_batches


@configclass
class GuessNumberDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    group_size: int
    n_batches: int
    model_name_for_tokenizer: str = "tinkerlite/tiny-chat"
    seed: int = 0
    max_turns: int = 4

    async def __call__(self) -> tuple[GuessNumberDataset, None]:
        from ...tokenizer_utils import get_tokenizer

        tok = get_tokenizer(self.model_name_for_tokenizer)
        return GuessNumberDataset(
            self.batch_size, self.group_size, tok, self.n_batches, self.seed, self.max_turns
        ), None
