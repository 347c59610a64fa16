"""Twenty questions: the player asks yes/no questions of an answerer model, then writes ``Guess: <word>``.

Reward 1 for guessing the secret word (the episode then ends), 0 otherwise; at most 20 questions.
The answerer is a sampling client of ``answerer_base_model`` on the same service, shown only the last
question. ``max_context_tokens`` (default None: no limit, as in the cookbook) ends a game early, unwon,
once the player's next prompt would exceed it, so a small-context model fails the game instead of the run.
Secret words come from ``file_path=`` (one per line), default the bundled ``tiny_words.txt``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .... import model_info
from ....completers import MessageCompleter, StopCondition, TinkerMessageCompleter
from ....errors import ValidationError
from ....renderers import Message, Renderer, get_renderer, get_text_content
from ....rl.types import Action, ActionExtra, Env, EnvGroupBuilder, RLDataset, RLDatasetBuilder, StepResult
from ....tokenizer_utils import get_tokenizer
from ....types import ModelInput
from ....utils import logtree
from ....utils.config import configclass
from ..._data import bundled_path

__all__ = [
    "ANSWERER_SYSTEM_PROMPT",
    "PLAYER_SYSTEM_PROMPT",
    "TwentyQuestionsDataset",
    "TwentyQuestionsDatasetBuilder",
    "TwentyQuestionsEnv",
    "TwentyQuestionsEnvGroupBuilder",
]

ANSWERER_SYSTEM_PROMPT = (
    "You answer a game of twenty questions about the secret word '{answer}'. Reply only 'yes' or 'no'. "
    "If the other player writes 'Guess: <word>', say 'yes' only if the word is exactly the secret word."
)
PLAYER_SYSTEM_PROMPT = (
    "You play twenty questions: ask one-line yes/no questions to find a secret single word (no articles). "
    "When you know it, write 'Guess: <word>'. You lose after twenty questions."
)
MAX_QUESTIONS = 20
_GUESS = re.compile(r"Guess: (.*)")


class TwentyQuestionsEnv(Env):
    def __init__(
        self, answerer: MessageCompleter, answer: str, renderer: Renderer, max_context_tokens: int | None = None
    ) -> None:
        self.max_context_tokens = max_context_tokens
        self.answerer = answerer
        self.answer = answer
        self.sys_for_answerer: Message = {"role": "system", "content": ANSWERER_SYSTEM_PROMPT.format(answer=answer)}
        self.sys_for_player: Message = {"role": "system", "content": PLAYER_SYSTEM_PROMPT}
        self.renderer = renderer
        self.turns: list[Message] = []

    @property
    def stop_condition(self) -> StopCondition:
        return self.renderer.get_stop_sequences()

    def _convo(self, me: str) -> list[Message]:
        """The game so far as ``me`` (player or answerer) sees it: my turns are the assistant's."""
        if me == "player":
            roles, system, turns = {"answerer": "user", "player": "assistant"}, self.sys_for_player, self.turns
        else:  # the answerer sees only the last question: each answer stands alone
            roles, system, turns = {"answerer": "assistant", "player": "user"}, self.sys_for_answerer, self.turns[-1:]
        out: list[Message] = [system]
        out.extend({"role": roles[t["role"]], "content": t["content"]} for t in turns)
        return out

    async def initial_observation(self) -> tuple[ModelInput, StopCondition]:
        return self.renderer.build_generation_prompt(self._convo("player")), self.stop_condition

    def _compute_reward(self, content: str) -> float:
        m = _GUESS.match(content)
        return 1.0 if m is not None and m.group(1).strip().lower() == self.answer.lower() else 0.0

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        message, _ = self.renderer.parse_response(list(action))
        content = get_text_content(message)
        self.turns.append({"role": "player", "content": content})
        reply = await self.answerer(self._convo("answerer"))
        self.turns.append({"role": "answerer", "content": get_text_content(reply)})
        reward = self._compute_reward(content)
        turn = len(self.turns) // 2
        next_obs = self.renderer.build_generation_prompt(self._convo("player"))
        too_long = self.max_context_tokens is not None and next_obs.length >= self.max_context_tokens
        done = reward == 1 or turn >= MAX_QUESTIONS or too_long
        logtree.log_text(f"Turn {turn} - Player: {content}")
        logtree.log_text(f"Turn {turn} - Answerer: {get_text_content(reply)}")
        return StepResult(
            next_observation=next_obs,
            next_stop_condition=self.stop_condition,
            episode_done=done,
            reward=reward,
        )


@dataclass(frozen=True)
class TwentyQuestionsEnvGroupBuilder(EnvGroupBuilder):
    answerer: MessageCompleter
    answer: str
    renderer: Renderer
    num_envs: int
    max_context_tokens: int | None = None

    async def make_envs(self) -> Sequence[Env]:
        return [
            TwentyQuestionsEnv(self.answerer, self.answer, self.renderer, self.max_context_tokens)
            for _ in range(self.num_envs)
        ]

    def logging_tags(self) -> list[str]:
        return ["twenty_questions"]


@dataclass(frozen=True)
class TwentyQuestionsDataset(RLDataset):
    answerer: MessageCompleter
    answers: Sequence[str]
    renderer: Renderer
    batch_size: int
    group_size: int
    max_context_tokens: int | None = None

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        base = index * self.batch_size
        return [
            TwentyQuestionsEnvGroupBuilder(
                self.answerer, self.answers[base + i], self.renderer, self.group_size, self.max_context_tokens
            )
            for i in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return len(self.answers) // self.batch_size


def _answerer_renderer_name(model: str) -> str:
    if model.startswith(("Qwen/Qwen3.5", "Qwen/Qwen3.6")):
        return "qwen3_5_disable_thinking"
    if model.startswith("Qwen/Qwen3"):
        return "qwen3_disable_thinking"
    return model_info.get_recommended_renderer_name(model)


@configclass
class TwentyQuestionsDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    group_size: int
    base_url: str | None = None
    num_epochs: int = 1
    test_group_size: int = 32
    answerer_base_model: str = "Qwen/Qwen3.5-9B"
    file_path: str | None = None
    max_context_tokens: int | None = None

    async def __call__(self) -> tuple[RLDataset, RLDataset]:
        from ....client.service_client import ServiceClient

        answerer = await self._construct_answer_completer(ServiceClient(base_url=self.base_url))
        train_words, test_words = self._get_train_and_test_words()
        if self.batch_size > len(train_words):
            raise ValidationError(f"batch_size: {self.batch_size} exceeds the {len(train_words)} training words")
        renderer = get_renderer(self.renderer_name, get_tokenizer(self.model_name_for_tokenizer))
        return (
            TwentyQuestionsDataset(
                answerer, train_words, renderer, self.batch_size, self.group_size, self.max_context_tokens
            ),
            TwentyQuestionsDataset(
                answerer, test_words, renderer, len(test_words), self.test_group_size, self.max_context_tokens
            ),
        )

    async def _construct_answer_completer(self, service_client: object) -> MessageCompleter:
        renderer = get_renderer(
            _answerer_renderer_name(self.answerer_base_model), get_tokenizer(self.answerer_base_model)
        )
        sampler = await service_client.create_sampling_client_async(  # type: ignore[attr-defined]
            base_model=self.answerer_base_model
        )
        return TinkerMessageCompleter(sampling_client=sampler, renderer=renderer, max_tokens=5)

    def _get_train_and_test_words(self) -> tuple[list[str], list[str]]:
        path = self.file_path or bundled_path("tiny_words.txt")
        words = [w.strip() for w in Path(path).read_text(encoding="utf-8").splitlines() if w.strip()]
        if len(words) < 2:
            raise ValidationError(f"file_path: {path} needs at least two words, one per line")
        random.Random(0).shuffle(words)
        n_test = max(1, min(len(words) // 5, 100))
        return words[:-n_test] * self.num_epochs, words[-n_test:]
