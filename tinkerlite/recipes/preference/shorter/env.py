"""A toy preference task: every prompt is "Who are you?" and the judge always prefers the shorter reply."""

from __future__ import annotations

from typing import Any

from ....preference.preference_datasets import ComparisonDatasetBuilder
from ....preference.preference_models import PreferenceModel, PreferenceModelBuilder
from ....preference.types import Comparison, LabeledComparison
from ....renderers import Message, get_text_content
from ....utils.config import configclass
from ..._data import Rows

__all__ = [
    "CONVO_PREFIX",
    "DUMMY_COMPARISON",
    "PreferenceModelShorter",
    "ShorterComparisonBuilder",
    "ShorterPreferenceModelBuilder",
]

CONVO_PREFIX: list[Message] = [{"role": "user", "content": "Who are you?"}]
DUMMY_COMPLETION: list[Message] = [
    {"role": "assistant", "content": "Hello! I am a language model. How can I help you today? Ask me anything."}
]
DUMMY_COMPARISON = Comparison(
    prompt_conversation=CONVO_PREFIX, completion_A=DUMMY_COMPLETION, completion_B=DUMMY_COMPLETION
)
N_PROMPTS = 1024


class PreferenceModelShorter(PreferenceModel):
    """1 (prefers B) when B is shorter, -1 when A is, 0 for equal lengths (characters of text content)."""

    @staticmethod
    def _length(completion: list[Message]) -> int:
        return sum(len(get_text_content(m)) for m in completion)

    async def __call__(self, comparison: Comparison) -> float:
        a, b = self._length(comparison.completion_A), self._length(comparison.completion_B)
        return 1.0 if a > b else -1.0 if b > a else 0.0


@configclass
class ShorterComparisonBuilder(ComparisonDatasetBuilder):
    """``N_PROMPTS`` copies of the one prompt (the completions are the policy's own samples)."""

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        return Rows([{"id": None}] * N_PROMPTS), None

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        return LabeledComparison(comparison=DUMMY_COMPARISON, label="Tie")


@configclass
class ShorterPreferenceModelBuilder(PreferenceModelBuilder):
    def __call__(self) -> PreferenceModel:
        return PreferenceModelShorter()
