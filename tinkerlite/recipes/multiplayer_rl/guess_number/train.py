"""``python -m tinkerlite.recipes.multiplayer_rl.guess_number.train``: multi-turn RL on guess-the-number."""

from __future__ import annotations

from typing import Any

from .... import cli_utils
from ....rl import train
from ....utils.config import configclass
from ..._cli import LOCAL_RL, recipe_main, run_name_time, runs_path
from ..._common import RL_KEYS, check_log_dir, default_renderer, run_names, same_keys
from .env import GuessNumberDatasetBuilder

__all__ = ["CLIConfig", "build_config", "main"]


@configclass
class CLIConfig:
    model_name: str = "Qwen/Qwen3.5-4B"
    renderer_name: str | None = "qwen3_5_disable_thinking"
    group_size: int = 8
    batch_size: int = 32
    learning_rate: float = 3e-5
    max_tokens: int = 64
    eval_every: int = 5
    save_every: int = 20
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    log_path: str | None = None
    base_url: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


def build_config(cli_config: CLIConfig) -> train.Config:
    renderer_name = default_renderer(cli_config)
    run_name = (
        f"{cli_config.model_name}-{cli_config.group_size}group-{cli_config.batch_size}batch-"
        f"{cli_config.learning_rate}lr-{run_name_time()}"
    )
    return train.Config(
        recipe_name="recipe_multiplayer_guess_number",
        renderer_name=renderer_name,
        log_path=cli_config.log_path or runs_path("guess-number", run_name),
        dataset_builder=GuessNumberDatasetBuilder(
            batch_size=cli_config.batch_size,
            model_name=cli_config.model_name,
            renderer_name=renderer_name,
            train_group_size=cli_config.group_size,
            base_url=cli_config.base_url,
        ),
        **same_keys(cli_config, *RL_KEYS),
        **run_names(cli_config, run_name),
    )


def main(cli_config: CLIConfig) -> None:
    config = build_config(cli_config)
    check_log_dir(cli_config, config.log_path)
    train.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {
    **LOCAL_RL, "max_tokens": 8, "batch_size": 4, "group_size": 4, "learning_rate": 1e-3, "eval_every": 0
}

if __name__ == "__main__":
    raise SystemExit(recipe_main("guess_number.train", __doc__ or "", CLIConfig, main, local_defaults=LOCAL_DEFAULTS))
