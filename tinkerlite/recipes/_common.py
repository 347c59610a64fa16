"""What every recipe's CLI entry does the same way when it turns its ``CLIConfig`` into a train config.

Each recipe keeps its own run name, dataset builder and config class; the pieces here (renderer choice,
same-named keys copied across, the wandb/session names, the log-dir check) are the cookbook's one
convention, written once so that the recipes cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..supervised.types import ChatDatasetBuilderCommonConfig

__all__ = [
    "BASIC_KEYS",
    "RL_KEYS",
    "SL_KEYS",
    "chat_common_config",
    "check_log_dir",
    "cli_renderer",
    "config_blueprint",
    "default_renderer",
    "model_tag",
    "run_names",
    "same_keys",
]

#: Keys the simple RL recipes' CLI configs pass to ``rl.train.Config`` unchanged.
RL_KEYS = ("model_name", "learning_rate", "max_tokens", "eval_every", "save_every", "base_url", "max_steps")

#: Keys the supervised recipes' CLI configs pass to ``supervised.train.Config`` unchanged.
SL_KEYS = (
    "model_name", "load_checkpoint_path", "learning_rate", "lr_schedule", "num_epochs", "base_url", "lora_rank",
    "save_every", "eval_every", "max_steps",
)

#: Keys ``rl_basic``/``sl_basic`` pass to their train config unchanged (wandb_name as given: no run name there).
BASIC_KEYS = (
    "model_name", "log_path", "learning_rate", "eval_every", "save_every", "lora_rank", "max_steps", "base_url",
    "wandb_project", "wandb_name",
)


def model_tag(model_name: str) -> str:
    """The model name as one path component (``Qwen/Qwen3-8B`` -> ``Qwen-Qwen3-8B``) for run names."""
    return model_name.replace("/", "-")


def cli_renderer(cli_config: Any) -> str:
    """The explicit ``renderer_name``, else the checkpoint's recorded one, else the model's recommended one."""
    from ._cli import resolve_renderer

    return resolve_renderer(
        cli_config.model_name, cli_config.renderer_name, cli_config.load_checkpoint_path, cli_config.base_url
    )


def default_renderer(cli_config: Any) -> str:
    """The explicit ``renderer_name``, else the model's recommended renderer (recipes with no checkpoint key)."""
    from .. import model_info

    return str(cli_config.renderer_name or model_info.get_recommended_renderer_name(cli_config.model_name))


def same_keys(cli_config: Any, *names: str) -> dict[str, Any]:
    """``{name: cli_config.name}`` for keys the train config takes under the same name, unchanged."""
    return {name: getattr(cli_config, name) for name in names}


def run_names(cli_config: Any, run_name: str) -> dict[str, Any]:
    """``wandb_project``; ``wandb_name`` (given, else the run's name); ``session_name`` (given, else wandb_name)."""
    wandb_name = cli_config.wandb_name or run_name
    return {
        "wandb_project": cli_config.wandb_project,
        "wandb_name": wandb_name,
        "session_name": cli_config.session_name or wandb_name,
    }


def check_log_dir(cli_config: Any, log_path: str) -> None:
    """``cli_utils.check_log_dir`` with the CLI config's ``behavior_if_log_dir_exists``."""
    from .. import cli_utils

    cli_utils.check_log_dir(log_path, behavior_if_exists=cli_config.behavior_if_log_dir_exists)


def chat_common_config(
    cli_config: Any, renderer_name: str, train_on_what: Any = None
) -> ChatDatasetBuilderCommonConfig:
    """The chat builders' common config from the CLI config's ``model_name``, ``max_length`` and ``batch_size``."""
    from ..supervised.types import ChatDatasetBuilderCommonConfig

    return ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=cli_config.model_name,
        renderer_name=renderer_name,
        max_length=cli_config.max_length,
        batch_size=cli_config.batch_size,
        train_on_what=train_on_what,
    )


def config_blueprint(recipe: str, train_config_cls: type, config: Any, keys: tuple[str, ...]) -> Any:
    """``chz.Blueprint(train_config_cls)`` with ``keys`` set to ``config``'s values (the basic recipes' blueprint)."""
    from .._optional import require

    chz = require("chz", f"{recipe}.build_config_blueprint", extra="chz")
    return chz.Blueprint(train_config_cls).apply({key: getattr(config, key) for key in keys})
