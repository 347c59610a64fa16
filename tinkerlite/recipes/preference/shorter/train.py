"""``python -m tinkerlite.recipes.preference.shorter.train``: RL toward shorter answers, judged pairwise."""

from __future__ import annotations

from typing import Any

from .... import cli_utils
from ....rl import train
from ....rl.preference_envs import PairwisePreferenceRLDatasetBuilder
from ....utils.config import configclass
from ..._cli import LOCAL_RL, recipe_main, run_name_time, runs_path
from ..._common import check_log_dir, default_renderer, model_tag, run_names, same_keys
from .env import ShorterComparisonBuilder, ShorterPreferenceModelBuilder

__all__ = ["CLIConfig", "cli_main"]


@configclass
class CLIConfig:
    model_name: str = "Qwen/Qwen3.5-4B"
    renderer_name: str | None = "qwen3_5_disable_thinking"
    batch_size: int = 32
    group_size: int = 16
    learning_rate: float = 3e-5
    max_tokens: int = 64
    eval_every: int = 5
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    base_url: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


def cli_main(cli_config: CLIConfig) -> None:
    model_name = cli_config.model_name
    renderer_name = default_renderer(cli_config)
    run_name = (
        f"shorter-{model_tag(model_name)}-{cli_config.batch_size}batch-{cli_config.group_size}group-"
        f"{cli_config.learning_rate}lr-{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("shorter", run_name)
    dataset_builder = PairwisePreferenceRLDatasetBuilder(
        comparison_builder=ShorterComparisonBuilder(),
        batch_size=cli_config.batch_size,
        policy_renderer_name=renderer_name,
        policy_model_name=model_name,
        group_size=cli_config.group_size,
        preference_model_builder=ShorterPreferenceModelBuilder(),
    )
    config = train.Config(
        recipe_name="recipe_preference_shorter",
        renderer_name=renderer_name,
        log_path=log_path,
        dataset_builder=dataset_builder,
        compute_post_kl=True,
        **same_keys(cli_config, "model_name", "learning_rate", "max_tokens", "eval_every", "base_url", "max_steps"),
        **run_names(cli_config, run_name),
    )
    check_log_dir(cli_config, log_path)
    train.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {
    **LOCAL_RL, "max_tokens": 32, "batch_size": 4, "group_size": 4, "learning_rate": 1e-3, "eval_every": 0
}

if __name__ == "__main__":
    raise SystemExit(recipe_main("preference.shorter.train", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
