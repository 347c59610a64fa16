"""``python -m tinkerlite.recipes.rl_basic``: GRPO-style RL on GSM8K with the training library.

``file_path=`` trains on your own GSM8K-shaped JSONL (``question``, ``answer`` ending in ``#### N``).
"""

from __future__ import annotations

from typing import Any

from .. import cli_utils
from ..rl import train
from ..utils.config import configclass
from ._cli import LOCAL_RL, recipe_main, runs_path
from ._common import BASIC_KEYS, check_log_dir, config_blueprint, default_renderer, same_keys
from .math_rl.math_env import Gsm8kDatasetBuilder

__all__ = ["DEFAULT_MODEL_NAME", "Config", "build_config", "build_config_blueprint", "main"]

DEFAULT_MODEL_NAME = "Qwen/Qwen3.5-9B-Base"


@configclass
class Config:
    model_name: str = DEFAULT_MODEL_NAME
    renderer_name: str | None = None
    log_path: str = runs_path("rl_basic")
    file_path: str | None = None
    batch_size: int = 128
    group_size: int = 16
    learning_rate: float = 4e-5
    max_tokens: int = 256
    eval_every: int = 0
    save_every: int = 20
    lora_rank: int = 32
    load_checkpoint_path: str | None = None
    max_steps: int | None = None
    base_url: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"


def build_config(config: Config) -> train.Config:
    from ..utils.session_naming import default_cookbook_session_name

    renderer_name = default_renderer(config)
    builder = Gsm8kDatasetBuilder(
        batch_size=config.batch_size,
        group_size=config.group_size,
        renderer_name=renderer_name,
        model_name_for_tokenizer=config.model_name,
        file_path=config.file_path,
    )
    return train.Config(
        recipe_name="recipe_rl_basic",
        renderer_name=renderer_name,
        dataset_builder=builder,
        **same_keys(config, *BASIC_KEYS, "max_tokens", "load_checkpoint_path"),
        session_name=config.session_name or default_cookbook_session_name("rl-basic", wandb_name=config.wandb_name),
    )


def build_config_blueprint(model_name: str = DEFAULT_MODEL_NAME) -> Any:
    """The cookbook's ``chz.Blueprint[train.Config]`` of this recipe (needs ``chz``): GSM8K, 128 groups of 16."""
    keys = ("model_name", "recipe_name", "renderer_name", "log_path", "dataset_builder", "learning_rate",
            "max_tokens", "eval_every")
    return config_blueprint("rl_basic", train.Config, build_config(Config(model_name=model_name)), keys)


def main(config: Config) -> None:
    check_log_dir(config, config.log_path)
    train.run(build_config(config))


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_RL, "batch_size": 8, "group_size": 4, "learning_rate": 1e-3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("rl_basic", __doc__ or "", Config, main, local_defaults=LOCAL_DEFAULTS))
