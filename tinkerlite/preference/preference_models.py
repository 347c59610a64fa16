"""Comparison renderers and preference models (the cookbook's ``preference.types`` classes beyond the data types).

A comparison is rendered as one chat: the prompt, ``==== Completion A ====`` + A, ``==== Completion B ====``
+ B, ``==== Preference ====``, and (for training) an assistant turn holding the label. Training keeps the
tokens up to and including the first trained token, so the model learns the label's first token, as in the
cookbook. A preference model samples that one token greedily and maps ``A``/``B``/``Tie`` to -1/1/0.
These classes are re-exported from :mod:`tinkerlite.preference.types` under the cookbook's names.
"""

from __future__ import annotations

import logging
from typing import Any

from ..types import EncodedTextChunk, ModelInput, SamplingParams, TensorData
from ..utils.config import configclass
from .types import Comparison, LabeledComparison

__all__ = [
    "ComparisonRenderer",
    "ComparisonRendererFromChatRenderer",
    "PreferenceModel",
    "PreferenceModelBuilder",
    "PreferenceModelBuilderFromChatRenderer",
    "PreferenceModelFromChatRenderer",
]

logger = logging.getLogger(__name__)


class ComparisonRenderer:
    """Turns comparisons into a sampling prompt, or into (tokens, weights) for training on the label."""

    def build_generation_prompt(self, comparison: Comparison) -> ModelInput:
        raise NotImplementedError

    def to_model_input_weights(self, labeled_comparison: LabeledComparison) -> tuple[ModelInput, TensorData]:
        raise NotImplementedError

    @property
    def tokenizer(self) -> Any:
        raise NotImplementedError


class ComparisonRendererFromChatRenderer(ComparisonRenderer):
    """A :class:`ComparisonRenderer` on top of a chat renderer (section markers as system messages)."""

    def __init__(self, convo_renderer: Any) -> None:
        self.convo_renderer = convo_renderer

    def _comparison_to_convo(self, comparison: Comparison) -> list[Any]:
        return [
            *comparison.prompt_conversation,
            {"role": "system", "content": "==== Completion A ===="},
            *comparison.completion_A,
            {"role": "system", "content": "==== Completion B ===="},
            *comparison.completion_B,
            {"role": "system", "content": "==== Preference ===="},
        ]

    def build_generation_prompt(self, comparison: Comparison) -> ModelInput:
        prompt: ModelInput = self.convo_renderer.build_generation_prompt(self._comparison_to_convo(comparison))
        return prompt

    def to_model_input_weights(self, labeled_comparison: LabeledComparison) -> tuple[ModelInput, TensorData]:
        convo = self._comparison_to_convo(labeled_comparison.comparison)
        convo.append({"role": "assistant", "content": labeled_comparison.label})
        model_input, weights = self.convo_renderer.build_supervised_example(convo)
        if not all(isinstance(c, EncodedTextChunk) for c in model_input.chunks):
            raise ValueError("Preference learning currently only supports text-only content.")
        w = [float(x) for x in weights.tolist()]
        first = next((i for i, x in enumerate(w) if x == 1.0), None)
        if first is None:
            return model_input, weights
        tokens = model_input.to_ints()[: first + 1]
        return ModelInput.from_ints(tokens), TensorData(data=w[: first + 1], dtype="float32", shape=[first + 1])

    @property
    def tokenizer(self) -> Any:
        return self.convo_renderer.tokenizer


class PreferenceModel:
    """Scores a comparison in [-1, 1]: -1 prefers A, 0 is a tie, 1 prefers B."""

    async def __call__(self, comparison: Comparison) -> float:
        raise NotImplementedError


class PreferenceModelBuilder:
    """Holds the configuration of a :class:`PreferenceModel` and builds it on call."""

    def __call__(self) -> PreferenceModel:
        raise NotImplementedError


class PreferenceModelFromChatRenderer(PreferenceModel):
    """Samples one token (temperature 0) after the rendered comparison; ``A`` -> -1, ``B`` -> 1, else 0."""

    def __init__(self, convo_renderer: Any, sampling_client: Any) -> None:
        self.comparison_renderer = ComparisonRendererFromChatRenderer(convo_renderer)
        self.sampling_client = sampling_client

    async def __call__(self, comparison: Comparison) -> float:
        prompt = self.comparison_renderer.build_generation_prompt(comparison)
        response = await self.sampling_client.sample(
            prompt, num_samples=1, sampling_params=SamplingParams(temperature=0.0, max_tokens=1)
        )
        out = str(self.comparison_renderer.tokenizer.decode(response.sequences[0].tokens)).strip()
        if out in ("A", "B", "Tie"):
            return {"A": -1.0, "B": 1.0, "Tie": 0.0}[out]
        logger.warning(f"Invalid output preference model output: '{out}'")
        return 0.0


@configclass
class PreferenceModelBuilderFromChatRenderer(PreferenceModelBuilder):
    """A preference model served from ``rm_weights_path``, prompted with renderer ``renderer_name``."""

    renderer_name: str
    model_name: str
    rm_weights_path: str
    base_url: str | None = None

    def __call__(self) -> PreferenceModel:
        from ..client.service_client import ServiceClient
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        renderer = get_renderer(self.renderer_name, get_tokenizer(self.model_name))
        client = ServiceClient(base_url=self.base_url).create_sampling_client(model_path=self.rm_weights_path).result()
        return PreferenceModelFromChatRenderer(renderer, client)
