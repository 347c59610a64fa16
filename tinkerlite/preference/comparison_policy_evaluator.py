"""Win rate of the current policy against reference completions (the cookbook's ``ComparisonEvaluator``).

For every comparison the policy writes a new completion B; a preference model judges (A, new B) and the
swapped pair, and ``(r(A,B) − r(B,A) + 2) / 4`` in [0, 1] is the policy's score (1: always preferred).
Reports the mean (``win_rate``) and its standard error.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..eval.evaluators import SamplingClientEvaluator
from .preference_models import PreferenceModel
from .types import Comparison

__all__ = ["ComparisonEvaluator"]


class ComparisonEvaluator(SamplingClientEvaluator):
    def __init__(
        self,
        preference_model_builder: Callable[[], PreferenceModel],
        comparisons: Sequence[Comparison],
        renderer_name: str,
        model_name_for_tokenizer: str,
        both_ways: bool = True,
        max_tokens: int = 1024,
        content_preprocessor: Callable[[str], str] | None = None,
    ) -> None:
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        self.preference_model_builder = preference_model_builder
        self.both_ways = both_ways
        self.comparisons = comparisons
        self.renderer = get_renderer(renderer_name, get_tokenizer(model_name_for_tokenizer))
        self.max_tokens = max_tokens
        self.content_preprocessor: Callable[[str], str] = content_preprocessor or (lambda x: x)

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        from ..completers import TinkerMessageCompleter
        from ..renderers import get_text_content

        model = self.preference_model_builder()
        policy = TinkerMessageCompleter(sampling_client, self.renderer, self.max_tokens)

        async def score(comparison: Comparison) -> float:
            message = await policy(comparison.prompt_conversation)
            mine: Any = {"role": "assistant", "content": self.content_preprocessor(get_text_content(message))}
            candidate = replace(comparison, completion_B=[mine])
            r0, r1 = await asyncio.gather(model(candidate), model(candidate.swap()))
            return (r0 - r1 + 2) / 4.0

        results = list(await asyncio.gather(*(score(c) for c in self.comparisons)))
        mean = sum(results) / len(results)
        if len(results) > 1:
            std = math.sqrt(sum((r - mean) ** 2 for r in results) / (len(results) - 1))
            stderr = std / math.sqrt(len(results))
        else:
            stderr = 0.0
        return {"win_rate": mean, "stderr": stderr}
