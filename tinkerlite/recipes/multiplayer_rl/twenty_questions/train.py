"""``python -m tinkerlite.recipes.multiplayer_rl.twenty_questions.train``: RL on twenty questions."""

from __future__ import annotations

from typing import Any

from .... import cli_utils
from ....rl import train
from ....utils.config import configclass
from ..._cli import LOCAL_MODEL, LOCAL_RL, recipe_main, run_name_time, runs_path
from ..._common import RL_KEYS, check_log_dir, default_renderer, run_names, same_keys
from .env import TwentyQuestionsDatasetBuilder

__all__ = ["CLIConfig", "build_config", "main"]


@configclass
class CLIConfig:
    model_name: str = "Qwen/Qwen3.5-4B"
    renderer_name: str | None = "qwen3_5_disable_thinking"
    answerer_base_model: str = "Qwen/Qwen3.5-9B"
    group_size: int = 8
    num_epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 3e-5
    max_tokens: int = 20
    eval_every: int = 5
    save_every: int = 20
    file_path: str | None = None
    max_context_tokens: int | None = None
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
        recipe_name="recipe_multiplayer_twenty_questions",
        renderer_name=renderer_name,
        log_path=cli_config.log_path or runs_path("twenty-questions-rl", run_name),
        dataset_builder=TwentyQuestionsDatasetBuilder(
            batch_size=cli_config.batch_size,
            model_name_for_tokenizer=cli_config.model_name,
            renderer_name=renderer_name,
            group_size=cli_config.group_size,
            num_epochs=cli_config.num_epochs,
            answerer_base_model=cli_config.answerer_base_model,
            base_url=cli_config.base_url,
            file_path=cli_config.file_path,
            max_context_tokens=cli_config.max_context_tokens,
        ),
        **same_keys(cli_config, *RL_KEYS),
        **run_names(cli_config, run_name),
    )


def main(cli_config: CLIConfig) -> None:
    config = build_config(cli_config)
    check_log_dir(cli_config, config.log_path)
    train.run(config)


# Twenty turns of the byte-level tiny model's replies do not fit its 2048-token context: games end early.
LOCAL_DEFAULTS: dict[str, Any] = {
    **LOCAL_RL, "max_tokens": 8, "max_context_tokens": 1800, "answerer_base_model": LOCAL_MODEL,
    "batch_size": 2, "group_size": 2, "num_epochs": 1, "learning_rate": 1e-3, "eval_every": 0,
}

if __name__ == "__main__":
    raise SystemExit(recipe_main("twenty_questions.train", __doc__ or "", CLIConfig, main,
                                 local_defaults=LOCAL_DEFAULTS))
