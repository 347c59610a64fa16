"""``python -m tinkerlite.recipes.distillation.on_policy_distillation``: on-policy distillation.

The student samples replies to prompts and is trained to lower its per-token KL to the teacher (no
correctness reward). Prompts: ``dataset=deepmath|tulu3`` from the hub (with ``datasets``), or
``file_path=`` JSONL (``{"prompt"}``, ``{"question"}`` or ``{"messages"}`` rows); without either the
bundled ``tiny_chat.jsonl``. ``teacher_checkpoint`` is a ``tinker://`` sampler path of tuned weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import cli_utils
from ..._optional import try_import
from ...distillation import train_on_policy
from ...distillation.datasets import DistillationDatasetConfig, PromptOnlyDatasetBuilder, TeacherConfig
from ...utils.config import configclass
from .._cli import LOCAL_MODEL, LOCAL_RL, recipe_main, run_name_time, runs_path
from .._common import RL_KEYS, check_log_dir, cli_renderer, model_tag, run_names, same_keys
from .._data import bundled_path

__all__ = ["CLIConfig", "cli_main"]


@configclass
class CLIConfig:
    """Command-line configuration for on-policy distillation (the cookbook's keys, plus ``file_path``)."""

    model_name: str = "Qwen/Qwen3.5-9B-Base"
    lora_rank: int = 128
    renderer_name: str | None = None
    load_checkpoint_path: str | None = None
    teacher_model: str = "Qwen/Qwen3.5-9B"
    teacher_checkpoint: str | None = None
    dataset: str = "deepmath"
    file_path: str | None = None
    group_size: int = 4
    groups_per_batch: int = 1024
    learning_rate: float = 1e-4
    max_tokens: int = 4096
    temperature: float = 1.0
    kl_penalty_coef: float = 1.0
    kl_discount_factor: float = 0.0
    num_substeps: int = 1
    loss_fn: str = "importance_sampling"
    loss_fn_config: dict[str, Any] | None = None
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    compute_post_kl: bool = False
    eval_every: int = 20
    save_every: int = 20
    base_url: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


async def cli_main(cli_config: CLIConfig) -> None:
    renderer_name = cli_renderer(cli_config)
    if cli_config.log_path is not None:
        log_path = cli_config.log_path
    else:
        log_path = runs_path(
            "distillation",
            f"distill-{cli_config.dataset}-{model_tag(cli_config.model_name)}-{cli_config.lora_rank}rank-{cli_config.learning_rate}lr-"
            f"{cli_config.groups_per_batch}batch-{run_name_time()}",
        )
    file_path = cli_config.file_path
    if file_path is None and try_import("datasets") is None:
        file_path = bundled_path("tiny_chat.jsonl")
        print(f"'datasets' is not installed: prompts from the bundled {file_path} (give file_path= for your own)")
    dataset_builder = PromptOnlyDatasetBuilder(
        dataset_name=cli_config.dataset,
        groups_per_batch=cli_config.groups_per_batch,
        group_size=cli_config.group_size,
        model_name_for_tokenizer=cli_config.model_name,
        renderer_name=renderer_name,
        file_path=file_path,
    )
    config = train_on_policy.Config(
        recipe_name="recipe_distillation_on_policy",
        dataset_configs=[
            DistillationDatasetConfig(
                dataset_builder=dataset_builder,
                teacher_config=TeacherConfig(
                    base_model=cli_config.teacher_model, load_checkpoint_path=cli_config.teacher_checkpoint
                ),
                groups_per_batch=cli_config.groups_per_batch,
            )
        ],
        renderer_name=renderer_name,
        **same_keys(
            cli_config, *RL_KEYS, "lora_rank", "kl_penalty_coef", "kl_discount_factor", "num_substeps", "loss_fn",
            "loss_fn_config", "load_checkpoint_path", "compute_post_kl",
        ),
        **run_names(cli_config, Path(log_path).name),
        log_path=log_path,
    )
    check_log_dir(cli_config, log_path)
    await train_on_policy.main(config)  # a coroutine, as the cookbook's cli_main


LOCAL_DEFAULTS: dict[str, Any] = {
    **LOCAL_RL, "teacher_model": LOCAL_MODEL, "lora_rank": 32, "groups_per_batch": 8, "learning_rate": 1e-3,
    "max_tokens": 32, "eval_every": 0,
}

if __name__ == "__main__":
    raise SystemExit(recipe_main("on_policy_distillation", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
