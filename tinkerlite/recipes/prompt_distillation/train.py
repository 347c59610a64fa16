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
from ...utils.config import configclass
from ...utils.lr_scheduling import LRSchedule
from .._cli import LOCAL_SL, recipe_main, run_name_time, runs_path
from .._common import SL_KEYS, chat_common_config, check_log_dir, cli_renderer, model_tag, run_names, same_keys
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
    run_name = (
        f"prompt_distillation-{model_tag(cli_config.model_name)}-{cli_config.lora_rank}rank-"
        f"{cli_config.learning_rate}lr-{cli_config.batch_size}batch-{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("prompt_distillation", run_name)
    file_path = _data_file(cli_config.file_path)
    check_log_dir(cli_config, log_path)
    renderer_name = cli_renderer(cli_config)
    config = train.Config(
        log_path=log_path,
        recipe_name="recipe_prompt_distillation",
        renderer_name=renderer_name,
        dataset_builder=FromConversationFileBuilder(
            common_config=chat_common_config(cli_config, renderer_name, cli_config.train_on_what), file_path=file_path
        ),
        **same_keys(cli_config, *SL_KEYS),
        **run_names(cli_config, run_name),
    )
    train.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "batch_size": 8, "learning_rate": 3e-3, "num_epochs": 8}

if __name__ == "__main__":
    raise SystemExit(recipe_main("prompt_distillation.train", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
