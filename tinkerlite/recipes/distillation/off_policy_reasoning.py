"""``python -m tinkerlite.recipes.distillation.off_policy_reasoning``: SFT on OpenThoughts3 reasoning traces.

Rows are ``{"conversations": [{"from": "human"|"gpt", "value": ...}]}`` (OpenThoughts3's shape),
streamed from the hub with ``datasets``, or read from ``file_path=`` JSONL in that shape or
``{"messages": [...]}``; without either the bundled ``tiny_chat.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import cli_utils
from ..._optional import try_import
from ...renderers import Message, TrainOnWhat
from ...supervised import train
from ...supervised.data import (
    StreamingSupervisedDatasetFromHFDataset,
    SupervisedDatasetFromHFDataset,
    conversation_to_datum,
)
from ...supervised.types import ChatDatasetBuilder, SupervisedDataset
from ...types import Datum
from ...utils.config import configclass
from ...utils.lr_scheduling import LRSchedule
from .._cli import LOCAL_SL, recipe_main, run_name_time, runs_path
from .._common import SL_KEYS, chat_common_config, check_log_dir, cli_renderer, model_tag, run_names, same_keys
from .._data import bundled_path, read_jsonl

__all__ = ["CLIConfig", "OpenThoughts3Builder", "cli_main", "row_to_messages"]


def row_to_messages(row: dict[str, Any]) -> list[Message]:
    """OpenThoughts3's ``from``/``value`` turns as chat messages (``messages`` rows pass through)."""
    if "messages" in row:
        return list(row["messages"])
    return [
        {"role": "user" if turn["from"] == "human" else "assistant", "content": turn["value"]}
        for turn in row.get("conversations", [])
    ]


@configclass
class OpenThoughts3Builder(ChatDatasetBuilder):
    """OpenThoughts3 (streamed, shuffled through a ``buffer_size`` buffer, at most ``max_prompts`` rows)."""

    buffer_size: int = 128 * 3000
    max_prompts: int = 128 * 3000
    file_path: str | None = None

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        cc = self.common_config
        train_on_what = TrainOnWhat(cc.train_on_what) if cc.train_on_what else TrainOnWhat.ALL_ASSISTANT_MESSAGES
        renderer = self.renderer

        def map_fn(row: dict[str, Any]) -> Datum:
            return conversation_to_datum(row_to_messages(row), renderer, cc.max_length, train_on_what)

        hf = try_import("datasets")
        if self.file_path or hf is None:  # a local file: small enough to hold, shuffled once
            rows = read_jsonl(self.file_path or bundled_path("tiny_chat.jsonl")).shuffle(seed=0).take(self.max_prompts)
            return SupervisedDatasetFromHFDataset(rows, batch_size=cc.batch_size, map_fn=map_fn), None
        stream = hf.load_dataset("open-thoughts/OpenThoughts3-1.2M", split="train", streaming=True)
        data = StreamingSupervisedDatasetFromHFDataset(
            hf_dataset=stream, batch_size=cc.batch_size, length=self.max_prompts, map_fn=map_fn,
            buffer_size=self.buffer_size,
        )
        return data, None


@configclass
class CLIConfig:
    """Command-line configuration for SFT on OpenThoughts3 (the cookbook's keys, plus ``file_path``)."""

    model_name: str = "Qwen/Qwen3.5-9B-Base"
    lora_rank: int = 128
    renderer_name: str | None = "qwen3_5"
    load_checkpoint_path: str | None = None
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 1
    max_length: int = 16384
    buffer_size: int = 128 * 3000
    max_prompts: int = 128 * 3000
    file_path: str | None = None
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    eval_every: int = 50
    save_every: int = 50
    base_url: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


def cli_main(cli_config: CLIConfig) -> None:
    renderer_name = cli_renderer(cli_config)
    if cli_config.log_path is not None:
        log_path = cli_config.log_path
        run_name = Path(log_path).name
    else:
        run_name = (
            f"sft-openthoughts3-{model_tag(cli_config.model_name)}-{cli_config.lora_rank}rank-{cli_config.learning_rate}lr-"
            f"{cli_config.batch_size}batch-{run_name_time()}"
        )
        log_path = runs_path("distillation", run_name)
    check_log_dir(cli_config, log_path)
    config = train.Config(
        log_path=log_path,
        recipe_name="recipe_distillation_off_policy_reasoning",
        renderer_name=renderer_name,
        dataset_builder=OpenThoughts3Builder(
            common_config=chat_common_config(cli_config, renderer_name),
            buffer_size=cli_config.buffer_size,
            max_prompts=cli_config.max_prompts,
            file_path=cli_config.file_path,
        ),
        evaluator_builders=[],
        infrequent_evaluator_builders=[],
        **same_keys(cli_config, *SL_KEYS),
        **run_names(cli_config, run_name),
    )
    train.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "lora_rank": 32, "learning_rate": 3e-3, "num_epochs": 3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("off_policy_reasoning", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
