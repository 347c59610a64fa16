"""Arena-Hard-Auto v0.1 (500 hard user queries, LLM-judged), as the cookbook's experimental ``_arena_hard``.

Benchmark ``arena_hard`` (``lmarena-ai/arena-hard-auto-v0.1`` on HF, or a local JSONL copy): each answer
is rated 1-10 by a judge model, a Tinker sampling client given as ``BenchmarkConfig.judge_sampling_client``
(with ``judge_renderer``, default the candidate's renderer), sampled at temperature 0 with up to 4096
tokens; the score is the win rate (rating >= 7), with ``arena_hard/avg_score`` (mean rating / 10).
The official protocol judges with GPT-4.1 or Gemini-2.5: a model judging itself inflates its score.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import tinkerlite as tinker

from ...completers import TinkerMessageCompleter
from ...renderers.base import Message
from ...renderers.content import get_text_content
from ...rl.types import Env, StepResult
from ._common import decode_response, limit_dataset, load_benchmark_dataset, make_example_id
from ._types import BenchmarkBuilder, BenchmarkConfig, BenchmarkResult, Metrics

logger = logging.getLogger(__name__)

_JUDGE_PROMPT_TEMPLATE = """\
Please act as an impartial judge and evaluate the quality of the response provided \
by an AI assistant to the user question displayed below. Your evaluation should \
consider factors including helpfulness, relevance, accuracy, depth, creativity, and \
level of detail of the response.

Begin your evaluation by providing a short explanation. Be as objective as possible. \
After providing your explanation, you must rate the response on a scale of 1 to 10 \
by strictly following this format: "[[rating]]", for example: "Rating: [[5]]".

[Question]
{question}

[The Start of Assistant's Answer]
{answer}
[The End of Assistant's Answer]"""


def _extract_judge_score(judge_response: str) -> int | None:
    """The rating in ``[[7]]``, else after ``Rating:``; None when there is neither."""
    match = re.search(r"\[\[(\d+)\]\]", judge_response)
    if match:
        return int(match.group(1))
    match = re.search(r"Rating:\s*(\d+)", judge_response, re.IGNORECASE)
    if match:
        return int(match.group(1))
    return None


class ArenaHardEnv(Env):
    """Single-turn env for one question: the answer is rated by the judge completer (a failed judge: 0)."""

    def __init__(self, question: str, cluster: str, judge_completer: Any, renderer: Any, example_id: str = ""):
        self.question = question
        self.cluster = cluster
        self.judge_completer = judge_completer
        self.renderer = renderer
        self.example_id = example_id

    async def initial_observation(self) -> Any:
        messages: list[Message] = [{"role": "user", "content": self.question}]
        return self.renderer.build_generation_prompt(messages), self.renderer.get_stop_sequences()

    async def step(self, action: Any, *, extra: Any = None) -> StepResult:
        answer = decode_response(action, self.renderer)
        judge_messages: list[Message] = [
            {"role": "user", "content": _JUDGE_PROMPT_TEMPLATE.format(question=self.question, answer=answer)}
        ]
        try:
            judge_text = get_text_content(await self.judge_completer(judge_messages))
            score = _extract_judge_score(judge_text)
        except Exception as e:
            logger.warning(f"Arena-Hard judge failed: {e}")
            score, judge_text = None, ""
        correct = score is not None and score >= 7
        return StepResult(
            reward=1.0 if correct else 0.0,
            episode_done=True,
            next_observation=tinker.ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(correct), "score": float(score) if score is not None else 0.0},
            logs={
                "example_id": self.example_id,
                "input": self.question[:200],
                "output": answer[:500],
                "judge_output": judge_text[:300],
                "score": score if score is not None else -1,
                "cluster": self.cluster,
            },
        )


class ArenaHardBenchmarkBuilder(BenchmarkBuilder):
    """Arena-Hard-Auto: challenging open-ended questions judged by an LLM (experimental; needs a judge)."""

    name = "arena_hard"
    experimental = True
    requires_judge = True

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        ds = load_benchmark_dataset("lmarena-ai/arena-hard-auto-v0.1", split="train")
        ds = limit_dataset(ds, config.max_examples)
        if config.judge_sampling_client is None:
            raise ValueError(
                "arena_hard requires config.judge_sampling_client for LLM-as-judge grading. "
                "Create a sampling client for the judge model and pass it via BenchmarkConfig."
            )
        judge_completer = TinkerMessageCompleter(
            sampling_client=config.judge_sampling_client,
            renderer=config.judge_renderer or renderer,
            max_tokens=4096,
            temperature=0.0,
        )
        envs: list[Env] = []
        for row in ds:
            row = dict(row)
            turns = row.get("turns", [])
            if not turns:
                continue
            question = turns[0].get("content", "") if isinstance(turns[0], dict) else str(turns[0])
            if not question:
                continue
            envs.append(
                ArenaHardEnv(
                    question,
                    row.get("cluster", "unknown"),
                    judge_completer,
                    renderer,
                    example_id=make_example_id("arena_hard", question),
                )
            )
        return envs

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Win rate (the score) and the mean rating / 10."""
        num_good = sum(1 for r in rewards if r > 0)
        win_rate = num_good / len(rewards) if rewards else 0.0
        scores = [m.get("score", 0.0) for m in metrics_list]
        avg_score = sum(scores) / len(scores) if scores else 0.0
        return BenchmarkResult(
            name=self.name,
            score=win_rate,
            num_examples=len(rewards),
            num_correct=num_good,
            metrics={"arena_hard/win_rate": win_rate, "arena_hard/avg_score": avg_score / 10.0},
        )


from . import register  # noqa: E402

register(ArenaHardBenchmarkBuilder())
