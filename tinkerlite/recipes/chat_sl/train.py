"""``python -m tinkerlite.recipes.chat_sl.train``: SFT on a chat dataset (``dataset=no_robots|tulu3|x.jsonl``)."""

from __future__ import annotations

from ... import cli_utils, renderers
from ...errors import ValidationError
from ...eval.evaluators import EvaluatorBuilder
from ...supervised import train
from ...supervised.data import FromConversationFileBuilder
from ...supervised.types import ChatDatasetBuilder, ChatDatasetBuilderCommonConfig
from ...utils.config import configclass
from ...utils.lr_scheduling import LRSchedule
from .._cli import LOCAL_SL, recipe_main, run_name_time, runs_path
from .._common import SL_KEYS, check_log_dir, cli_renderer, model_tag, run_names, same_keys
from . import chat_datasets

__all__ = ["CLIConfig", "cli_main", "get_dataset_builder", "get_infrequent_evaluator_builders"]


@configclass
class CLIConfig:
    log_path: str | None = None
    model_name: str = "Qwen/Qwen3.5-9B-Base"
    load_checkpoint_path: str | None = None
    dataset: str = "no_robots"
    file_path: str | None = None
    learning_rate: float = 1e-4
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 1
    lora_rank: int = 32
    base_url: str | None = None
    save_every: int = 20
    eval_every: int = 20
    infrequent_eval_every: int = 100
    inline_evals: str | None = None
    renderer_name: str | None = None
    train_on_what: renderers.TrainOnWhat | None = None
    max_length: int | None = 16384
    batch_size: int = 256
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    behavior_if_log_dir_exists: cli_utils.LogdirBehavior = "ask"
    max_steps: int | None = None
    rolling_save_every: int = 0
    rolling_ttl_seconds: int = 7200


def get_dataset_builder(
    dataset: str,
    model_name: str,
    renderer_name: str,
    max_length: int | None,
    batch_size: int,
    train_on_what: renderers.TrainOnWhat | None = None,
    file_path: str | None = None,
) -> ChatDatasetBuilder:
    common_config = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=model_name,
        renderer_name=renderer_name,
        max_length=max_length,
        batch_size=batch_size,
        train_on_what=train_on_what,
    )
    if dataset == "tulu3":
        return chat_datasets.Tulu3Builder(common_config=common_config, file_path=file_path)
    if dataset == "no_robots":
        return chat_datasets.NoRobotsBuilder(common_config=common_config, file_path=file_path)
    if dataset.endswith(".jsonl"):
        return FromConversationFileBuilder(common_config=common_config, file_path=dataset)
    raise ValidationError(f"dataset: unknown dataset {dataset!r}; expected no_robots, tulu3 or a .jsonl path")


def get_infrequent_evaluator_builders(
    inline_evals: str | None, renderer_name: str, model_name: str
) -> list[EvaluatorBuilder]:
    if inline_evals is None:
        return []
    if inline_evals == "inspect":  # the cookbook's inline evals: gsm8k and ifeval through inspect_ai
        from ...eval.inspect_evaluators import InspectEvaluatorBuilder  # names the [inspect] extra if missing

        builder = InspectEvaluatorBuilder(
            tasks=["inspect_evals/gsm8k", "inspect_evals/ifeval"],
            renderer_name=renderer_name,
            model_name=model_name,
            temperature=0.6,
            max_tokens=1000,
            limit=None,
            debug_errors=True,
            log_dir=None,
            max_connections=512,
            log_level="INFO",
        )
        return [builder]
    raise ValidationError(
        f"unknown inline evaluator {inline_evals!r}; expected 'inspect' or None", field="inline_evals"
    )


def cli_main(cli_config: CLIConfig) -> None:
    run_name = (
        f"{cli_config.dataset}-{model_tag(cli_config.model_name)}-{cli_config.lora_rank}rank-{cli_config.learning_rate}lr-"
        f"{cli_config.batch_size}batch-{run_name_time()}"
    )
    log_path = cli_config.log_path or runs_path("chat_sl", run_name)
    check_log_dir(cli_config, log_path)
    renderer_name = cli_renderer(cli_config)
    config = train.Config(
        log_path=log_path,
        recipe_name="recipe_chat_sl",
        renderer_name=renderer_name,
        dataset_builder=get_dataset_builder(
            cli_config.dataset,
            cli_config.model_name,
            renderer_name,
            cli_config.max_length,
            cli_config.batch_size,
            cli_config.train_on_what,
            cli_config.file_path,
        ),
        evaluator_builders=[],
        infrequent_evaluator_builders=get_infrequent_evaluator_builders(
            cli_config.inline_evals, renderer_name, cli_config.model_name
        ),
        **same_keys(
            cli_config, *SL_KEYS, "infrequent_eval_every", "rolling_save_every", "rolling_ttl_seconds"
        ),
        **run_names(cli_config, run_name),
    )
    train.run(config)


LOCAL_DEFAULTS = {**LOCAL_SL, "learning_rate": 3e-3, "eval_every": 5}

if __name__ == "__main__":
    raise SystemExit(recipe_main("chat_sl.train", __doc__ or "", CLIConfig, cli_main, local_defaults=LOCAL_DEFAULTS))
