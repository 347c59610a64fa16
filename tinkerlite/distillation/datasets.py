"""Prompt-only environments (reward 0: the teacher is the only signal) and multi-teacher dataset mixing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..renderers import Message  # runtime: chz blueprints resolve field annotations
from ..rl.problem_env import ProblemEnv
from ..rl.types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
)
from ..types import ModelInput
from ..utils.config import configclass
from .hub_prompts import first_user_message, load_deepmath_prompts, load_tulu3_prompts

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Renderer

__all__ = [
    "CompositeDataset",
    "DistillationDatasetConfig",
    "PromptOnlyDataset",
    "PromptOnlyDatasetBuilder",
    "PromptOnlyEnv",
    "PromptOnlyEnvGroupBuilder",
    "TeacherConfig",
    "load_deepmath_prompts",
    "load_tulu3_prompts",
]


class PromptOnlyEnv(ProblemEnv):
    """One user prompt, one sampled reply, reward 0 (a :class:`ProblemEnv` with no format or answer check)."""

    def __init__(self, prompt: str, renderer: Renderer, convo_prefix: list[Message] | None = None) -> None:
        super().__init__(renderer, convo_prefix, format_coef=0.0)
        self.prompt = prompt

    def get_question(self) -> str:
        return self.prompt

    def check_format(self, sample_str: str) -> bool:
        return True

    def check_answer(self, sample_str: str) -> bool:
        return False

    def get_reference_answer(self) -> str:
        return ""

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
        tokenizer: Any | None,
        max_prompt_tokens: int | None = None,
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
        self.tokenizer = tokenizer
        self.max_prompt_tokens = max_prompt_tokens

    def _truncate_prompt(self, prompt: str) -> str:
        """At most ``max_prompt_tokens`` tokens of the prompt (needs ``tokenizer``), as the cookbook does."""
        if self.max_prompt_tokens is None or self.tokenizer is None:
            return prompt
        tokens = self.tokenizer.encode(prompt)
        if len(tokens) > self.max_prompt_tokens:
            return str(self.tokenizer.decode(tokens[: self.max_prompt_tokens]))
        return prompt

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        chunk = self.prompts[index * self.batch_size : (index + 1) * self.batch_size]
        return [
            PromptOnlyEnvGroupBuilder(
                self._truncate_prompt(p), self.renderer, self.group_size, self.convo_prefix, self.dataset_name
            )
            for p in chunk
        ]

    def __len__(self) -> int:
        return math.ceil(len(self.prompts) / self.batch_size)


HF_PROMPT_DATASETS = ("deepmath", "tulu3")
"""``dataset_name`` values the cookbook loads from the HF hub (needs ``datasets``)."""


@configclass
class PromptOnlyDatasetBuilder(RLDatasetBuilder):
    """The cookbook's prompt-only builder: ``groups_per_batch`` prompts × ``group_size`` samples per batch.

    Prompts come from, in order: ``prompts`` (in memory), ``file_path`` (JSONL rows ``{"prompt": ...}``,
    ``{"question": ...}`` or ``{"messages": [...]}``, whose first user message is the prompt), else
    ``dataset_name`` ``deepmath`` or ``tulu3`` from the HF hub as in the cookbook (needs ``datasets``).
    ``prompts`` and ``file_path`` are tinkerlite additions; with them ``dataset_name`` is only the tag.
    """

    dataset_name: str
    groups_per_batch: int
    group_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    convo_prefix: list[Message] | None = None
    max_prompt_tokens: int | None = 1024
    # tinkerlite additions
    prompts: list[str] | None = None
    file_path: str | None = None

    async def __call__(self) -> tuple[PromptOnlyDataset, PromptOnlyDataset | None]:
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        train, test = self._load_prompts()
        tokenizer = get_tokenizer(self.model_name_for_tokenizer)
        renderer = get_renderer(self.renderer_name, tokenizer)
        prefix = list(self.convo_prefix) if self.convo_prefix else None

        def dataset(prompts: list[str], group_size: int, name: str) -> PromptOnlyDataset:
            return PromptOnlyDataset(
                prompts, self.groups_per_batch, group_size, renderer, tokenizer, self.max_prompt_tokens, prefix, name
            )

        test_ds = dataset(test, 1, f"{self.dataset_name}_test") if test else None
        return dataset(train, self.group_size, self.dataset_name), test_ds

    def _load_prompts(self) -> tuple[list[str], list[str] | None]:
        if self.prompts is not None:
            return list(self.prompts), None
        if self.file_path:
            return read_prompt_file(self.file_path), None
        if self.dataset_name in HF_PROMPT_DATASETS:
            loaded = load_deepmath_prompts("train") if self.dataset_name == "deepmath" else load_tulu3_prompts()
            if not loaded:
                raise ValidationError(
                    f"could not load the train split of {self.dataset_name!r} (see the warning above); "
                    "pass prompts=[...] or file_path=<jsonl> to run offline",
                    field="PromptOnlyDatasetBuilder.dataset_name",
                )
            return loaded, None
        raise ValidationError(
            f"unknown dataset {self.dataset_name!r}: pass prompts=[...] or file_path=<jsonl>, "
            f"or one of {', '.join(HF_PROMPT_DATASETS)}",
            field="PromptOnlyDatasetBuilder.dataset_name",
        )


def read_prompt_file(path: str) -> list[str]:
    """Prompts from JSONL: ``{"prompt": str}``, ``{"question": str}`` or ``{"messages": [...]}`` rows."""
    import json

    out: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValidationError(f"{path}:{line_no}: not JSON ({e.msg})", field="file_path") from None
            prompt = _row_prompt(row)
            if prompt is None:
                raise ValidationError(
                    f'{path}:{line_no}: expected {{"prompt": str}} or {{"messages": [...]}} with a user message',
                    field="file_path",
                )
            out.append(prompt)
    return out


def _row_prompt(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    for key in ("prompt", "question"):
        if isinstance(row.get(key), str) and row[key].strip():
            return str(row[key])
    messages = row.get("messages")
    return first_user_message(messages) if isinstance(messages, list) else None


@configclass
class TeacherConfig:
    """The teacher: a base model, optionally with fine-tuned weights (a ``tinker://`` sampler path)."""

    base_model: str
    load_checkpoint_path: str | None = None


@configclass
class DistillationDatasetConfig:
    """One (dataset, teacher) pair of a distillation run; ``groups_per_batch`` is informational."""

    dataset_builder: RLDatasetBuilder
    teacher_config: TeacherConfig
    groups_per_batch: int


class CompositeDataset:
    """Batch ``i`` = batch ``i`` of every dataset; each builder is tagged with its dataset (teacher) index."""

    def __init__(self, datasets: Sequence[RLDataset], groups_per_batch_list: Sequence[int]) -> None:
        if not datasets:
            raise ValidationError("need at least one dataset", field="dataset_configs")
        self.datasets = list(datasets)
        self.groups_per_batch_list = list(groups_per_batch_list)
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
