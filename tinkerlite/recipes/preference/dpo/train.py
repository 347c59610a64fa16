"""``python -m tinkerlite.recipes.preference.dpo.train``: Direct Preference Optimization on a comparison set.

``dataset=hhh|helpsteer3|ultrafeedback``; ``file_path=`` JSONL in that dataset's row shape replaces the
hub download (``hhh`` also runs offline on the bundled ``tiny_hhh.jsonl``).
"""

from __future__ import annotations

from typing import Any

from .... import cli_utils
from ....errors import ValidationError
from ....preference import train_dpo
from ....preference.dpo_datasets import DPODatasetBuilderFromComparisons
from ....supervised.types import ChatDatasetBuilder, ChatDatasetBuilderCommonConfig
from ....utils.config import configclass
from ....utils.lr_scheduling import LRSchedule
from ..._cli import LOCAL_SL, recipe_main, run_name_time, runs_path
from ..._common import check_log_dir, cli_renderer, model_tag, run_names, same_keys
from ..datasets import HelpSteer3ComparisonBuilder, HHHComparisonBuilder, UltraFeedbackComparisonBuilder

__all__ = ["CLIConfig", "cli_main", "get_dataset_builder"]

_BUILDERS = {
    "hhh": HHHComparisonBuilder,
    "helpsteer3": HelpSteer3ComparisonBuilder,
    "ultrafeedback": UltraFeedbackComparisonBuilder,
}


@configclass
class CLIConfig:
    model_name: str = "Qwen/Qwen3.5-9B-Base"
    dataset: str = "hhh"
    file_path: str | None = None
    load_checkpoint_path: str | None = None
    renderer_name: str | None = None
    learning_rate: float = 1e-5
    lr_schedule: LRSchedule = "linear"
    dpo_beta: float = 0.1
    max_length: int | None = 8192
    batch_size: int = 256
    log_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    base_url: str | None = None
    reference_model_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None


def get_dataset_builder(
    dataset: str,
    model_name: str,
    renderer_name: str,
    max_length: int | None,
    batch_size: int,
    file_path: str | None = None,
) -> ChatDatasetBuilder:
    """The DPO pair dataset over ``dataset``'s comparisons."""
    if dataset not in _BUILDERS:
        raise ValidationError(f"dataset: unknown dataset {dataset!r}; expected one of {', '.join(_BUILDERS)}")
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=model_name, renderer_name=renderer_name, max_length=max_length, batch_size=batch_size
    )
    return DPODatasetBuilderFromComparisons(
        common_config=common, comparison_builder=_BUILDERS[dataset](file_path=file_path)
    )


def cli_main(cli_config: CLIConfig) -> None:
    renderer_name = cli_renderer(cli_config)
    run_name = (
        f"{cli_config.dataset}-{model_tag(cli_config.model_name)}-{cli_config.learning_rate}lr-{cli_config.batch_size}batch-"
        f"{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("dpo", run_name)
    check_log_dir(cli_config, log_path)
    config = train_dpo.Config(
        log_path=log_path,
        recipe_name="recipe_preference_dpo",
        renderer_name=renderer_name,
        dataset_builder=get_dataset_builder(
            cli_config.dataset,
            cli_config.model_name,
            renderer_name,
            cli_config.max_length,
            cli_config.batch_size,
            cli_config.file_path,
        ),
        evaluator_builders=[],
        **same_keys(
            cli_config, "model_name", "load_checkpoint_path", "learning_rate", "lr_schedule", "dpo_beta", "base_url",
            "reference_model_name", "max_steps",
        ),
        **run_names(cli_config, run_name),
    )
    train_dpo.run(config)


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "batch_size": 8, "learning_rate": 1e-3, "max_steps": 20}

if __name__ == "__main__":
    raise SystemExit(recipe_main("preference.dpo.train", __doc__ or "", CLIConfig, cli_main,
                                 local_defaults=LOCAL_DEFAULTS))
