"""``python -m tinkerlite.recipes.rl_basic``: GRPO-style RL on GSM8K with the training library.

``file_path=`` trains on your own GSM8K-shaped JSONL (``question``, ``answer`` ending in ``#### N``).
"""

from __future__ import annotations

from typing import Any

from .. import cli_utils, model_info
from ..rl import train
from ..utils.config import configclass
from ._cli import LOCAL_RL, recipe_main, runs_path
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

    renderer_name = config.renderer_name or model_info.get_recommended_renderer_name(config.model_name)
    builder = Gsm8kDatasetBuilder(
        batch_size=config.batch_size,
        group_size=config.group_size,
        renderer_name=renderer_name,
        model_name_for_tokenizer=config.model_name,
        file_path=config.file_path,
    )
    return train.Config(
        model_name=config.model_name,
        recipe_name="recipe_rl_basic",
        renderer_name=renderer_name,
        log_path=config.log_path,
        dataset_builder=builder,
        learning_rate=config.learning_rate,
        max_tokens=config.max_tokens,
        eval_every=config.eval_every,
        save_every=config.save_every,
        lora_rank=config.lora_rank,
        load_checkpoint_path=config.load_checkpoint_path,
        max_steps=config.max_steps,
        base_url=config.base_url,
        wandb_project=config.wandb_project,
        wandb_name=config.wandb_name,
        session_name=config.session_name or default_cookbook_session_name("rl-basic", wandb_name=config.wandb_name),
    )


def build_config_blueprint(model_name: str = DEFAULT_MODEL_NAME) -> Any:
    """The cookbook's ``chz.Blueprint[train.Config]`` of this recipe (needs ``chz``): GSM8K, 128 groups of 16."""
    from .._optional import require

    chz = require("chz", "rl_basic.build_config_blueprint", extra="chz")
    config = build_config(Config(model_name=model_name))
    return chz.Blueprint(train.Config).apply(
        {
            "model_name": model_name,
            "recipe_name": config.recipe_name,
            "renderer_name": config.renderer_name,
            "log_path": config.log_path,
            "dataset_builder": config.dataset_builder,
            "learning_rate": config.learning_rate,
            "max_tokens": config.max_tokens,
            "eval_every": config.eval_every,
        }
    )


def main(config: Config) -> None:
    cli_utils.check_log_dir(config.log_path, behavior_if_exists=config.behavior_if_log_dir_exists)
    train.run(build_config(config))


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_RL, "batch_size": 8, "group_size": 4, "learning_rate": 1e-3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("rl_basic", __doc__ or "", Config, main, local_defaults=LOCAL_DEFAULTS))
