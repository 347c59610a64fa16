"""``tinkerlite dpo key=value ...``: direct preference optimisation from the command line.

``file_path`` is a comparison JSONL (``{"comparison": {"prompt_conversation": [...], "completion_A":
[...], "completion_B": [...]}, "label": "A" | "B" | "Tie"}``). Without it the job trains on a
generated preference task the built-in tiny model can learn (answer in the letter case the prompt
asks for) and reports held-out preference accuracy before and after. Without ``base_url`` (and no
``TINKER_BASE_URL``) it runs against an embedded local server, so the command works offline.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from ..cli_utils import ENDPOINT_OPTIONS, Option, prepare_log_dir, recommended_renderer, run_cli
from ..errors import ValidationError

__all__ = ["OPTIONS", "main"]

DEMO_MODEL = "tinkerlite/tiny-chat"

OPTIONS: list[Option] = [
    Option("log_path", str, None, "run directory (default: ./runs/dpo-<timestamp>)"),
    Option("model_name", str, DEMO_MODEL, "base model"),
    Option("renderer_name", str | None, None, "chat renderer (default: the model's recommended one)"),
    Option("file_path", str | None, None, "comparison JSONL (default: a generated letter-case preference task)"),
    Option("test_path", str | None, None, "held-out comparison JSONL (default: test_size rows of file_path)"),
    Option("test_size", int, 64, "rows held out for test/ metrics when no test_path is given"),
    Option("num_synthetic", int, 400, "rows of the generated task (when no file_path)"),
    Option("tie_policy", str, "skip", "what to do with 'Tie' rows: skip (counted) | error | as_b (cookbook)"),
    Option("batch_size", int, 16, "pairs per step"),
    Option("max_length", int | None, 1024, "truncate rendered conversations to this many tokens"),
    Option("dpo_beta", float, 0.1, "DPO temperature β"),
    Option("learning_rate", float | None, None, "peak LR (default 1e-5; 2e-3 for the tiny model)"),
    Option("lr_schedule", str, "linear", "linear | cosine | constant"),
    Option("warmup_steps", int, 0, "linear warmup steps"),
    Option("num_epochs", int, 1, "passes over the data"),
    Option("max_steps", int | None, None, "stop after this many steps"),
    Option("lora_rank", int, 32, "LoRA rank"),
    Option("load_checkpoint_path", str | None, None, "start from these weights (state path)"),
    Option(
        "reference_model_path", str | None, None, "sampler checkpoint to use as reference (default: initial policy)"
    ),
    Option("save_every", int, 20, "checkpoint every N steps (0: only the final one)"),
    Option("eval_every", int, 10, "test metrics every N steps (0: never)"),
    Option("ttl_seconds", int | None, 604800, "TTL of periodic checkpoints"),
    Option("seed", int, 0, "seed of the generated task and the train/test split"),
    *ENDPOINT_OPTIONS,
]


def main(argv: Sequence[str]) -> int:
    return run_cli("tinkerlite dpo", __doc__ or "", OPTIONS, argv, _run)


def _run(v: dict[str, Any]) -> int:
    from ..local_endpoint import endpoint
    from ..supervised.types import ChatDatasetBuilderCommonConfig
    from .comparisons import write_comparison_file
    from .dpo_datasets import ComparisonFileBuilder, DPODatasetBuilderFromComparisons
    from .synthetic import make_case_preference_set
    from .train_dpo import Config, run
    from .types import TIE_POLICIES

    if v["tie_policy"] not in TIE_POLICIES:
        raise ValidationError(f"must be one of {', '.join(TIE_POLICIES)}; got {v['tie_policy']!r}", field="tie_policy")
    log_path = prepare_log_dir(v, "dpo")
    os.makedirs(log_path, exist_ok=True)
    file_path = v["file_path"]
    if file_path is None:
        file_path = os.path.join(log_path, "synthetic_comparisons.jsonl")
        n_ties = max(1, v["num_synthetic"] // 50)
        write_comparison_file(file_path, make_case_preference_set(v["num_synthetic"], v["seed"], num_ties=n_ties))
        print(f"no file_path: wrote a generated letter-case preference task ({v['num_synthetic']} rows) to {file_path}")
    renderer_name = recommended_renderer(v["model_name"], v["renderer_name"])
    learning_rate = v["learning_rate"]
    if learning_rate is None:
        learning_rate = 2e-3 if v["model_name"] == DEMO_MODEL else 1e-5
    # Read and validate the files before any connection: a bad row is reported as file:line right away.
    items = ComparisonFileBuilder(
        train_path=file_path,
        test_path=v["test_path"],
        test_size=0 if v["test_path"] else v["test_size"],
        shuffle_seed=v["seed"],
    )()
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=v["model_name"],
        renderer_name=renderer_name,
        max_length=v["max_length"],
        batch_size=v["batch_size"],
    )
    builder = DPODatasetBuilderFromComparisons(
        common_config=common,
        comparison_builder=lambda: items,
        tie_policy=v["tie_policy"],
    )
    with endpoint(v["base_url"], log_path, v["api_key"]) as (base_url, api_key):
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(base_url=base_url, api_key=api_key)
        try:
            config = Config(
                recipe_name="dpo",
                log_path=log_path,
                model_name=v["model_name"],
                dataset_builder=builder,
                renderer_name=renderer_name,
                load_checkpoint_path=v["load_checkpoint_path"],
                reference_model_path=v["reference_model_path"],
                learning_rate=learning_rate,
                lr_schedule=v["lr_schedule"],
                warmup_steps=v["warmup_steps"],
                num_epochs=v["num_epochs"],
                dpo_beta=v["dpo_beta"],
                lora_rank=v["lora_rank"],
                base_url=base_url,
                api_key=api_key,
                save_every=v["save_every"],
                eval_every=v["eval_every"],
                ttl_seconds=v["ttl_seconds"],
                max_steps=v["max_steps"],
            )
            print(f"DPO on {v['model_name']} (renderer {renderer_name}, beta {v['dpo_beta']}); logs in {log_path}")
            summary = run(config, service_client=service_client)
        finally:
            service_client.close()
    _report(log_path, summary)
    return 0


def _first_test(log_path: str, key: str) -> float:
    from ..utils.files import read_jsonl

    for row in read_jsonl(os.path.join(log_path, "metrics.jsonl")):
        if key in row:
            return float(row[key])
    return math.nan


def _report(log_path: str, summary: dict[str, Any]) -> None:
    from ..plotting import plot_run

    first, last = summary.get("first", {}), summary.get("last", {})
    print()
    if first:
        print(
            f"steps {summary['steps_run']}  dpo_loss {first['dpo_loss']:.4f} -> {last['dpo_loss']:.4f}  "
            f"train accuracy {first['accuracy']:.2f} -> {last['accuracy']:.2f}  margin -> {last['margin']:.3f}"
        )
    if "test/pref_accuracy" in summary:
        before = _first_test(log_path, "test/pref_accuracy")
        print(
            f"held-out preference accuracy (policy alone prefers the chosen completion): "
            f"{before:.3f} -> {summary['test/pref_accuracy']:.3f}; "
            f"DPO accuracy vs reference {summary['test/accuracy']:.3f}"
        )
    try:
        svg = plot_run(log_path)
        print(f"\nmetrics: {os.path.join(log_path, 'metrics.jsonl')}\nplot:    {svg}")
    except Exception as e:  # a plot is a convenience; never fail the run over it
        print(f"\nmetrics: {os.path.join(log_path, 'metrics.jsonl')} (plot failed: {e})")
    if summary.get("state_path"):
        print(f"final checkpoint: {summary['state_path']}\nreference: {summary['reference_path']}")
