"""``python -m tinkerlite.recipes.math_rl.train``: RL on math (``env=arithmetic|math|polaris|deepmath|gsm8k``)."""

from __future__ import annotations

from typing import Any

from ... import cli_utils
from ...errors import ValidationError
from ...rl.train import AsyncConfig, Config, StreamMinibatchConfig
from ...rl.train import main as rl_main
from ...rl.types import RLDatasetBuilder
from ...utils.config import configclass
from .._cli import LOCAL_RL, recipe_main, run_name_time, runs_path
from .._common import RL_KEYS, check_log_dir, cli_renderer, model_tag, run_names, same_keys
from . import arithmetic_env, math_env

__all__ = ["CLIConfig", "cli_main", "get_dataset_builder"]


@configclass
class CLIConfig:
    """Command-line configuration for RL training (the cookbook's keys and defaults, plus ``file_path``)."""

    model_name: str = "Qwen/Qwen3.5-9B"
    lora_rank: int = 32
    renderer_name: str | None = None
    load_checkpoint_path: str | None = None
    env: str = "arithmetic"
    seed: int = 0
    file_path: str | None = None
    group_size: int = 4
    groups_per_batch: int = 100
    learning_rate: float = 1e-5
    max_tokens: int = 5
    temperature: float = 1.0
    kl_penalty_coef: float = 0.0
    num_substeps: int = 1
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    compute_post_kl: bool = False
    eval_every: int = 20
    save_every: int = 20
    base_url: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps_off_policy: int | None = None
    stream_minibatch_config: StreamMinibatchConfig | None = None
    loss_fn: str = "stable_reinforce"
    loss_fn_config: dict[str, Any] | None = None
    max_steps: int | None = None


def get_dataset_builder(
    env: str,
    batch_size: int,
    model_name: str,
    renderer_name: str,
    group_size: int,
    seed: int = 0,
    file_path: str | None = None,
) -> RLDatasetBuilder:
    if env == "arithmetic":
        return arithmetic_env.ArithmeticDatasetBuilder(
            batch_size=batch_size,
            model_name_for_tokenizer=model_name,
            renderer_name=renderer_name,
            n_batches=100,
            include_fewshot=True,
            group_size=group_size,
        )
    if env in math_env.DATASET_BUILDER_MAP:
        return math_env.get_math_dataset_builder(
            dataset_name=env,
            batch_size=batch_size,
            model_name_for_tokenizer=model_name,
            renderer_name=renderer_name,
            group_size=group_size,
            seed=seed,
            file_path=file_path,
        )
    known = ", ".join(["arithmetic", *math_env.DATASET_BUILDER_MAP])
    raise ValidationError(f"env: unknown environment {env!r}; expected one of {known}")


async def cli_main(cli_config: CLIConfig) -> None:
    renderer_name = cli_renderer(cli_config)
    run_name = (
        f"{cli_config.env}-{model_tag(cli_config.model_name)}-{cli_config.lora_rank}rank-{cli_config.learning_rate}lr-"
        f"{cli_config.group_size}group-{cli_config.groups_per_batch}batch-{cli_config.loss_fn}-"
        f"seed{cli_config.seed}-{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("math_rl", run_name)
    smc = cli_config.stream_minibatch_config
    config = Config(
        dataset_builder=get_dataset_builder(
            cli_config.env,
            cli_config.groups_per_batch,
            cli_config.model_name,
            renderer_name,
            cli_config.group_size,
            cli_config.seed,
            cli_config.file_path,
        ),
        recipe_name="recipe_math_rl",
        renderer_name=renderer_name,
        **run_names(cli_config, run_name),
        log_path=log_path,
        **same_keys(
            cli_config, *RL_KEYS, "lora_rank", "temperature", "load_checkpoint_path", "compute_post_kl",
            "kl_penalty_coef", "num_substeps", "loss_fn", "loss_fn_config",
        ),
        async_config=AsyncConfig(
            max_steps_off_policy=cli_config.max_steps_off_policy,
            groups_per_batch=cli_config.groups_per_batch,
            loss_fn=cli_config.loss_fn,
        )
        if cli_config.max_steps_off_policy is not None
        else None,
        stream_minibatch_config=StreamMinibatchConfig(
            groups_per_batch=cli_config.groups_per_batch, num_minibatches=smc.num_minibatches
        )
        if smc is not None
        else None,
    )
    check_log_dir(cli_config, log_path)
    await rl_main(config)  # a coroutine, as the cookbook's cli_main


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_RL, "groups_per_batch": 16, "learning_rate": 1e-3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("math_rl.train", __doc__ or "", CLIConfig, cli_main, local_defaults=LOCAL_DEFAULTS))
