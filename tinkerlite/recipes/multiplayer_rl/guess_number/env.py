"""Guess-the-number: the player answers ``Guess: <n>`` and hears "Too low", "Too high" or "Correct".

Reward per turn: 1 for the right number, 0 for a wrong one, ``FORMAT_PENALTY`` (-1) for a reply that
does not parse; an episode ends on a correct guess or after ``MAX_TURNS`` guesses.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ....completers import StopCondition
from ....errors import ValidationError
from ....renderers import Message, Renderer, ensure_text, get_renderer, get_text_content
from ....rl.types import Action, ActionExtra, Env, EnvGroupBuilder, RLDataset, RLDatasetBuilder, StepResult
from ....tokenizer_utils import get_tokenizer
from ....types import ModelInput
from ....utils.config import configclass

__all__ = [
    "FORMAT_PENALTY",
    "MAX_TURNS",
    "SYSTEM_PROMPT",
    "GuessNumberDataset",
    "GuessNumberDatasetBuilder",
    "GuessNumberEnv",
    "GuessNumberEnvGroupBuilder",
]

_UPPER_BOUND = 1024
SYSTEM_PROMPT = (
    f"Guess the integer I am thinking of, between 0 and {_UPPER_BOUND}. Reply with exactly 'Guess: <number>' "
    "and nothing else; I will say whether your guess is too high, too low, or correct."
)
FAIL_TO_PARSE = "Failed to parse; reply 'Guess: <number>'."
FORMAT_PENALTY = -1.0
MAX_TURNS = 10
_GUESS = re.compile(r"Guess: (.*)")


class GuessNumberEnv(Env):
    def __init__(self, gold_answer: int, renderer: Renderer) -> None:
        self.system_prompt: Message = {"role": "system", "content": SYSTEM_PROMPT}
        self.renderer = renderer
        self.turns: list[Message] = []
        self.gold_answer = gold_answer

    @property
    def stop_condition(self) -> StopCondition:
        return self.renderer.get_stop_sequences()

    @property
    def _obs(self) -> ModelInput:
        return self.renderer.build_generation_prompt([self.system_prompt, *self.turns])

    async def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        return self._obs, self.stop_condition

    def _get_user_turn(self, action_text: str) -> tuple[Message, float]:
        m = _GUESS.match(action_text)
        try:
            guess = int(m.group(1)) if m else None
        except ValueError:
            guess = None
        if guess is None:
            return {"role": "user", "content": FAIL_TO_PARSE}, FORMAT_PENALTY
        if guess == self.gold_answer:
            return {"role": "user", "content": "Correct"}, 1.0
        return {"role": "user", "content": "Too low" if guess < self.gold_answer else "Too high"}, 0.0

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        message, _ = self.renderer.parse_response(list(action))
        content = get_text_content(message)
        user_turn, reward = self._get_user_turn(content)
        self.turns.append({"role": "assistant", "content": content})
        self.turns.append(user_turn)
        done = reward == 1 or len(self.turns) // 2 >= MAX_TURNS
        return StepResult(
            next_observation=self._obs,
            next_stop_condition=self.stop_condition,
            episode_done=done,
            reward=reward,
            logs={"guess": content, "feedback": ensure_text(user_turn["content"]), "target": self.gold_answer},
        )


@dataclass(frozen=True)
class GuessNumberEnvGroupBuilder(EnvGroupBuilder):
    answer: int
    renderer: Renderer
    num_envs: int

    async def make_envs(self) -> Sequence[Env]:
        return [GuessNumberEnv(self.answer, self.renderer) for _ in range(self.num_envs)]

    def logging_tags(self) -> list[str]:
        return ["guess_number"]


@dataclass(frozen=True)
class GuessNumberDataset(RLDataset):
    answers: Sequence[int]
    renderer: Renderer
    batch_size: int
    group_size: int

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        base = index * self.batch_size
        return [
            GuessNumberEnvGroupBuilder(answer=self.answers[base + i], renderer=self.renderer, num_envs=self.group_size)
            for i in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return len(self.answers) // self.batch_size


@configclass
class GuessNumberDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    renderer_name: str
    train_group_size: int
    base_url: str | None = None
    model_name: str
    train_fraction: float = 0.9
    test_group_size: int = 4

    async def __call__(self) -> tuple[RLDataset, RLDataset]:
        renderer = get_renderer(self.renderer_name, get_tokenizer(self.model_name))
        train, test = self._get_train_and_test_numbers()
        if self.batch_size > len(train):
            raise ValidationError(f"batch_size: {self.batch_size} exceeds the {len(train)} training numbers")
        return (
            GuessNumberDataset(train, renderer, self.batch_size, self.train_group_size),
            GuessNumberDataset(test, renderer, len(test), self.test_group_size),
        )

    def _get_train_and_test_numbers(self) -> tuple[list[int], list[int]]:
        numbers = random.Random(0).sample(range(_UPPER_BOUND), _UPPER_BOUND)
        n_train = int(_UPPER_BOUND * self.train_fraction)
        return numbers[:n_train], numbers[n_train:]
