"""``python -m tinkerlite.recipes.sl_basic``: supervised fine-tuning on No Robots with the training library.

``file_path=`` trains on your own JSONL of ``{"messages": [...]}`` instead. The cookbook builds this
config as a chz blueprint of ``supervised.train.Config``; here the same keys and values are a
:class:`Config` whose fields map one to one onto it.
"""

from __future__ import annotations

from typing import Any

from .. import cli_utils
from ..renderers import TrainOnWhat
from ..supervised import train
from ..supervised.data import FromConversationFileBuilder
from ..supervised.types import ChatDatasetBuilder
from ..utils.config import configclass
from ..utils.lr_scheduling import LRSchedule
from ._cli import LOCAL_SL, recipe_main, runs_path
from ._common import BASIC_KEYS, chat_common_config, check_log_dir, config_blueprint, default_renderer, same_keys
from .chat_sl import chat_datasets

__all__ = ["DEFAULT_MODEL_NAME", "Config", "build_config", "build_config_blueprint", "main"]

DEFAULT_MODEL_NAME = "Qwen/Qwen3.5-9B-Base"


@configclass
class Config:
    log_path: str = runs_path("sl_basic")
    model_name: str = DEFAULT_MODEL_NAME
    renderer_name: str | None = None
    file_path: str | None = None
    max_length: int = 32768
    batch_size: int = 128
    train_on_what: TrainOnWhat = TrainOnWhat.ALL_ASSISTANT_MESSAGES
    learning_rate: float = 2e-4
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 1
    eval_every: int = 8
    save_every: int = 20
    lora_rank: int = 32
    max_steps: int | None = None
    base_url: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"


def build_config(config: Config) -> train.Config:
    renderer_name = default_renderer(config)
    common = chat_common_config(config, renderer_name, config.train_on_what)
    dataset: ChatDatasetBuilder = (
        FromConversationFileBuilder(common_config=common, file_path=config.file_path)
        if config.file_path
        else chat_datasets.NoRobotsBuilder(common_config=common)
    )
    from ..utils.session_naming import default_cookbook_session_name

    return train.Config(
        recipe_name="recipe_sl_basic",
        renderer_name=renderer_name,
        dataset_builder=dataset,
        **same_keys(config, *BASIC_KEYS, "lr_schedule", "num_epochs"),
        session_name=config.session_name or default_cookbook_session_name("sl-basic", wandb_name=config.wandb_name),
    )


def build_config_blueprint(model_name: str = DEFAULT_MODEL_NAME) -> Any:
    """The cookbook's ``chz.Blueprint[train.Config]`` of this recipe (needs ``chz``): No Robots, 128 a batch."""
    keys = ("log_path", "model_name", "recipe_name", "renderer_name", "dataset_builder", "learning_rate",
            "lr_schedule", "num_epochs", "eval_every")
    return config_blueprint("sl_basic", train.Config, build_config(Config(model_name=model_name)), keys)


def main(config: Config) -> None:
    check_log_dir(config, config.log_path)
    train.run(build_config(config))


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "learning_rate": 3e-3, "num_epochs": 3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("sl_basic", __doc__ or "", Config, main, local_defaults=LOCAL_DEFAULTS))
