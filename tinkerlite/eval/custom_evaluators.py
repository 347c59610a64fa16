"""A minimal custom evaluator (the cookbook's ``eval.custom_evaluators`` example): QA accuracy by a grader.

Each row ``{"input": question, "output": target}`` is asked as one user message; the parsed reply's text
and the target go to ``grader_fn``; the metric is ``accuracy``. Sampling as in the cookbook: 100 tokens,
temperature 0.7, the renderer's stop sequences.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .evaluators import SamplingClientEvaluator

__all__ = ["QA_DATASET", "CustomEvaluator", "grader_fn", "main"]


class CustomEvaluator(SamplingClientEvaluator):
    def __init__(
        self, dataset: Any, grader_fn: Callable[[str, str], bool], model_name: str, renderer_name: str
    ) -> None:
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        self.dataset = dataset
        self.grader_fn = grader_fn
        self.renderer = get_renderer(renderer_name, get_tokenizer(model_name))

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        from ..renderers import get_text_content
        from ..types import SamplingParams

        params = SamplingParams(max_tokens=100, temperature=0.7, top_p=1.0, stop=self.renderer.get_stop_sequences())
        correct = 0
        for row in self.dataset:
            prompt = self.renderer.build_generation_prompt([{"role": "user", "content": row["input"]}])
            response = await sampling_client.sample_async(prompt=prompt, num_samples=1, sampling_params=params)
            message = self.renderer.parse_response(response.sequences[0].tokens)[0]
            correct += bool(self.grader_fn(get_text_content(message), row["output"]))
        n = len(self.dataset)
        return {"accuracy": correct / n if n > 0 else 0.0}


QA_DATASET = [
    {"input": "What is the capital of France?", "output": "Paris"},
    {"input": "What is the capital of Germany?", "output": "Berlin"},
    {"input": "What is the capital of Italy?", "output": "Rome"},
]


def grader_fn(response: str, target: str) -> bool:
    """Case-insensitive containment."""
    return target.lower() in response.lower()


async def main() -> None:
    """The cookbook's example run (needs the Tinker service and the model it names)."""
    from ..client.service_client import ServiceClient

    evaluator = CustomEvaluator(
        QA_DATASET, grader_fn, model_name="Qwen/Qwen3.5-9B", renderer_name="qwen3_5_disable_thinking"
    )
    sampling_client = ServiceClient().create_sampling_client(base_model="Qwen/Qwen3.5-9B").result()
    print(await evaluator(sampling_client))


if __name__ == "__main__":
    asyncio.run(main())
