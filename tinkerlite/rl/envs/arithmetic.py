"""``What is x + y?`` (x, y in [0, 100]): the cookbook's arithmetic smoke-test environment."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from ...utils.config import configclass
from ..problem_env import ProblemEnv, ProblemGroupBuilder
from ..types import EnvGroupBuilder, RLDataset, RLDatasetBuilder

__all__ = ["ArithmeticDataset", "ArithmeticDatasetBuilder", "ArithmeticEnv"]

_INTEGER = re.compile(r"-?\d+")


def extract_final_int(text: str) -> int | None:
    matches = _INTEGER.findall(text.replace(",", ""))
    return int(matches[-1]) if matches else None


class ArithmeticEnv(ProblemEnv):
    """Correct when the last integer in the answer is the sum; any answer is well-formed."""

    def __init__(
        self,
        x: int,
        y: int,
        renderer: Any,
        convo_prefix: list[Any] | None = None,
        format_coef: float = 0.1,
        require_stop_sequence_for_format: bool = True,
    ) -> None:
        super().__init__(renderer, convo_prefix, format_coef, require_stop_sequence_for_format)
        self.x, self.y = x, y

    def get_question(self) -> str:
        return f"What is {self.x} + {self.y}?"

    def check_answer(self, sample_str: str) -> bool:
        return extract_final_int(sample_str) == self.x + self.y

    def check_format(self, sample_str: str) -> bool:
        return True

    def get_reference_answer(self) -> str:
        return str(self.x + self.y)

    @staticmethod
    def standard_fewshot_prefix() -> list[dict[str, str]]:
        return [{"role": "user", "content": "What is 4 + 5?"}, {"role": "assistant", "content": "9"}]


class ArithmeticDataset(RLDataset):
    """Batch ``i`` is drawn from ``Random(seed * 1_000_003 + i)``: the same problems on every run and resume."""

    def __init__(
        self,
        batch_size: int,
        renderer: Any,
        group_size: int,
        n_batches: int = 100,
        include_fewshot: bool = True,
        seed: int = 0,
    ) -> None:
        self.batch_size, self.renderer, self.group_size = batch_size, renderer, group_size
        self.n_batches, self.include_fewshot, self.seed = n_batches, include_fewshot, seed

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        rng = random.Random(self.seed * 1_000_003 + index)
        prefix = ArithmeticEnv.standard_fewshot_prefix() if self.include_fewshot else None
        return [
            ProblemGroupBuilder(
                env_thunk=partial(
                    ArithmeticEnv, rng.randint(0, 100), rng.randint(0, 100), self.renderer, convo_prefix=prefix
                ),
                num_envs=self.group_size,
                dataset_name="arithmetic",
            )
            for _ in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return self.n_batches


@configclass
class ArithmeticDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    n_batches: int
    group_size: int
    include_fewshot: bool = True
    seed: int = 0

    async def __call__(self) -> tuple[ArithmeticDataset, None]:
        from ._common import make_renderer

        renderer = make_renderer(self.model_name_for_tokenizer, self.renderer_name)
        return (
            ArithmeticDataset(
                self.batch_size, renderer, self.group_size, self.n_batches, self.include_fewshot, self.seed
            ),
            None,
        )
