"""``python -m tinkerlite.recipes.prompt_distillation.train``: SFT on the teacher-labelled file.

``file_path`` defaults to ``create_data``'s output; when that file does not exist yet the bundled
``tiny_lang.jsonl`` (the same task, labelled by hand) is used and the run says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import cli_utils
from ...renderers import TrainOnWhat
from ...supervised import train
from ...supervised.data import FromConversationFileBuilder
from ...supervised.types import ChatDatasetBuilderCommonConfig
from ...utils.config import configclass
from ...utils.lr_scheduling import LRSchedule
from .._cli import LOCAL_SL, recipe_main, resolve_renderer, run_name_time, runs_path
from .._data import DatasetUnavailableError, bundled_path
from .create_data import DEFAULT_OUTPUT_FILE

__all__ = ["CLIConfig", "cli_main"]


@configclass
class CLIConfig:
    file_path: str = DEFAULT_OUTPUT_FILE
    log_path: str | None = None
    model_name: str = "Qwen/Qwen3.6-35B-A3B"
    load_checkpoint_path: str | None = None
    learning_rate: float = 1e-4
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 4
    lora_rank: int = 32
    base_url: str | None = None
    save_every: int = 20
    eval_every: int = 5
    renderer_name: str | None = None
    train_on_what: TrainOnWhat = TrainOnWhat.ALL_ASSISTANT_MESSAGES
    max_length: int = 32768
    batch_size: int = 128
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


def _data_file(file_path: str) -> str:
    if Path(file_path).exists():
        return file_path
    if file_path == DEFAULT_OUTPUT_FILE:
        bundled = bundled_path("tiny_lang.jsonl")
        print(f"{file_path} does not exist (run prompt_distillation.create_data); training on the bundled {bundled}")
        return bundled
    raise DatasetUnavailableError(f"no such file {file_path!r}", field="file_path")


def cli_main(cli_config: CLIConfig) -> None:
    model_tag = cli_config.model_name.replace("/", "-")
    run_name = (
        f"prompt_distillation-{model_tag}-{cli_config.lora_rank}rank-{cli_config.learning_rate}lr-"
        f"{cli_config.batch_size}batch-{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("prompt_distillation", run_name)
    wandb_name = cli_config.wandb_name or run_name
    file_path = _data_file(cli_config.file_path)
    cli_utils.check_log_dir(log_path, behavior_if_exists=cli_config.behavior_if_log_dir_exists)
    renderer_name = resolve_renderer(
        cli_config.model_name, cli_config.renderer_name, cli_config.load_checkpoint_path, cli_config.base_url
    )
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=cli_config.model_name,
        renderer_name=renderer_name,
        max_length=cli_config.max_length,
        batch_size=cli_config.batch_size,
        train_on_what=cli_config.train_on_what,
    )
    config = train.Config(
        log_path=log_path,
        model_name=cli_config.model_name,
        recipe_name="recipe_prompt_distillation",
        renderer_name=renderer_name,
        load_checkpoint_path=cli_config.load_checkpoint_path,
        dataset_builder=FromConversationFileBuilder(common_config=common, file_path=file_path),
        learning_rate=cli_config.learning_rate,
        lr_schedule=cli_config.lr_schedule,
        num_epochs=cli_config.num_epochs,
        base_url=cli_config.base_url,
        wandb_project=cli_config.wandb_project,
        wandb_name=wandb_name,
        session_name=cli_config.session_name or wandb_name,
        lora_rank=cli_config.lora_rank,
        save_every=cli_config.save_every,
        eval_every=cli_config.eval_every,
        max_steps=cli_config.max_steps,
    )
    train.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "batch_size": 8, "learning_rate": 3e-3, "num_epochs": 8}

if __name__ == "__main__":
    raise SystemExit(recipe_main("prompt_distillation.train", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
