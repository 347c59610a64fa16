"""Prompt-only environments (reward 0: the teacher is the only signal) and multi-teacher dataset mixing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..rl.types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    Observation,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
    StopCondition,
)
from ..types import ModelInput

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Message, Renderer

__all__ = [
    "CompositeDataset",
    "DistillationDatasetConfig",
    "PromptOnlyDataset",
    "PromptOnlyDatasetBuilder",
    "PromptOnlyEnv",
    "PromptOnlyEnvGroupBuilder",
    "TeacherConfig",
]


class PromptOnlyEnv(Env):
    """One user prompt, one sampled reply, reward 0."""

    def __init__(self, prompt: str, renderer: Renderer, convo_prefix: list[Message] | None = None) -> None:
        self.prompt = prompt
        self.renderer = renderer
        self.convo_prefix = list(convo_prefix or [])

    @property
    def stop_condition(self) -> StopCondition:
        return self.renderer.get_stop_sequences()

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        from ..renderers import Message

        convo = [*self.convo_prefix, Message(role="user", content=self.prompt)]
        return self.renderer.build_generation_prompt(convo), self.stop_condition

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        return StepResult(0.0, True, ModelInput.empty(), self.stop_condition)


@dataclass(frozen=True)
class PromptOnlyEnvGroupBuilder(EnvGroupBuilder):
    prompt: str
    renderer: Any
    group_size: int
    convo_prefix: list[Any] | None = None
    dataset_name: str = "prompts"

    async def make_envs(self) -> Sequence[Env]:
        return [PromptOnlyEnv(self.prompt, self.renderer, self.convo_prefix) for _ in range(self.group_size)]

    def logging_tags(self) -> list[str]:
        return [self.dataset_name]


class PromptOnlyDataset(RLDataset):
    """``batch_size`` prompts per batch (the last batch may be short), ``group_size`` samples each."""

    def __init__(
        self,
        prompts: Sequence[str],
        batch_size: int,
        group_size: int,
        renderer: Renderer,
        convo_prefix: list[Message] | None = None,
        dataset_name: str = "prompts",
    ) -> None:
        if batch_size <= 0 or group_size <= 0:
            raise ValidationError(f"batch_size and group_size must be positive, got {batch_size}, {group_size}")
        if not prompts:
            raise ValidationError("no prompts", field="prompts")
        for i, p in enumerate(prompts):
            if not isinstance(p, str) or not p.strip():
                raise ValidationError(f"must be a non-empty string, got {p!r}", field=f"prompts[{i}]")
        self.prompts = list(prompts)
        self.batch_size = batch_size
        self.group_size = group_size
        self.renderer = renderer
        self.convo_prefix = convo_prefix
        self.dataset_name = dataset_name

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        chunk = self.prompts[index * self.batch_size : (index + 1) * self.batch_size]
        return [
            PromptOnlyEnvGroupBuilder(p, self.renderer, self.group_size, self.convo_prefix, self.dataset_name)
            for p in chunk
        ]

    def __len__(self) -> int:
        return math.ceil(len(self.prompts) / self.batch_size)


@dataclass(frozen=True)
class PromptOnlyDatasetBuilder(RLDatasetBuilder):
    """Prompts given in memory; ``groups_per_batch`` prompts × ``group_size`` samples per batch."""

    prompts: tuple[str, ...]
    groups_per_batch: int
    model_name_for_tokenizer: str
    renderer_name: str
    group_size: int = 4
    convo_prefix: tuple[Any, ...] = ()
    dataset_name: str = "prompts"

    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        renderer = get_renderer(self.renderer_name, get_tokenizer(self.model_name_for_tokenizer))
        ds = PromptOnlyDataset(
            list(self.prompts),
            self.groups_per_batch,
            self.group_size,
            renderer,
            list(self.convo_prefix) or None,
            self.dataset_name,
        )
        return ds, None


@dataclass(frozen=True)
class TeacherConfig:
    """The teacher: a base model, optionally with fine-tuned weights (a ``tinker://`` sampler path)."""

    base_model: str
    load_checkpoint_path: str | None = None


@dataclass(frozen=True)
class DistillationDatasetConfig:
    dataset_builder: RLDatasetBuilder
    teacher_config: TeacherConfig
    groups_per_batch: int = field(default=0)
    """Informational (the builder sets its own batch size), as in the cookbook."""


class CompositeDataset:
    """Batch ``i`` = batch ``i`` of every dataset; each builder is tagged with its dataset (teacher) index."""

    def __init__(self, datasets: Sequence[RLDataset], groups_per_batch_list: Sequence[int] | None = None) -> None:
        if not datasets:
            raise ValidationError("need at least one dataset", field="dataset_configs")
        self.datasets = list(datasets)
        self.groups_per_batch_list = list(groups_per_batch_list or [0] * len(self.datasets))
        self.length = min(len(d) for d in self.datasets)

    def __len__(self) -> int:
        return self.length

    def get_batch(self, i_batch: int) -> tuple[list[EnvGroupBuilder], list[int]]:
        builders: list[EnvGroupBuilder] = []
        indices: list[int] = []
        for idx, ds in enumerate(self.datasets):
            b = list(ds.get_batch(i_batch))
            builders += b
            indices += [idx] * len(b)
        return builders, indices
