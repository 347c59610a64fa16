"""``python -m tinkerlite.recipes.rl_numerics_check.train``: RL on the page-reading counting task.

Difficulty keys are nested under ``task.`` (``task.num_pages_hint=range task.word_hint=first_last``).
The model's renderer must support tool calling.
"""

from __future__ import annotations

from ... import cli_utils
from ...rl import train
from ...utils.config import configclass, field
from .._cli import recipe_main, run_name_time, runs_path
from .._common import RL_KEYS, check_log_dir, default_renderer, run_names, same_keys
from .env import DEFAULT_MAX_TRAJECTORY_TOKENS, CountingDatasetBuilder, CountingTaskConfig

__all__ = ["CLIConfig", "build_config", "main"]


@configclass
class CLIConfig:
    model_name: str = "Qwen/Qwen3.6-35B-A3B:peft:262144"
    renderer_name: str | None = None
    lora_rank: int = 32
    learning_rate: float = 4e-5
    loss_fn: str = "importance_sampling"
    kl_penalty_coef: float = 0.0
    group_size: int = 16
    groups_per_batch: int = 16
    max_tokens: int = 1024
    max_trajectory_tokens: int = DEFAULT_MAX_TRAJECTORY_TOKENS
    task: CountingTaskConfig = field(default_factory=CountingTaskConfig)
    seed: int = 0
    file_path: str | None = None
    eval_every: int = 0
    save_every: int = 20
    max_steps: int | None = None
    base_url: str | None = None
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"


def build_config(cli_config: CLIConfig) -> train.Config:
    renderer_name = default_renderer(cli_config)
    task = cli_config.task
    run_name = (
        f"rl-numerics-{cli_config.model_name.split('/')[-1]}-pages_{task.num_pages_hint}-word_{task.word_hint}-"
        f"{task.num_pages_min}to{task.num_pages_max}p-lr{cli_config.learning_rate}-{run_name_time()}"
    )
    return train.Config(
        recipe_name="recipe_rl_numerics_check",
        renderer_name=renderer_name,
        log_path=cli_config.log_path or runs_path("rl_numerics_check", run_name),
        dataset_builder=CountingDatasetBuilder(
            batch_size=cli_config.groups_per_batch,
            group_size=cli_config.group_size,
            model_name_for_tokenizer=cli_config.model_name,
            renderer_name=renderer_name,
            task=task,
            seed=cli_config.seed,
            max_trajectory_tokens=cli_config.max_trajectory_tokens,
            max_generation_tokens=cli_config.max_tokens,
            file_path=cli_config.file_path,
        ),
        **same_keys(cli_config, *RL_KEYS, "loss_fn", "kl_penalty_coef", "lora_rank"),
        **run_names(cli_config, run_name),
    )


def main(cli_config: CLIConfig) -> None:
    config = build_config(cli_config)
    check_log_dir(cli_config, config.log_path)
    train.run(config)


if __name__ == "__main__":
    raise SystemExit(recipe_main("rl_numerics_check.train", __doc__ or "", CLIConfig, main))
