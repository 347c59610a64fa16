"""``tinkerlite sl key=value ...``: supervised fine-tuning from the command line.

With no ``base_url`` (and no ``TINKER_BASE_URL``) the job runs against an embedded local server with
the built-in tiny model, so the same command works offline, in CI and on a laptop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..cli_utils import ENDPOINT_OPTIONS, Option, prepare_log_dir, recommended_renderer, run_cli
from ..local_endpoint import LOCAL_API_KEY as LOCAL_API_KEY  # re-exported for older imports
from ..local_endpoint import endpoint as _endpoint

__all__ = ["OPTIONS", "main"]

DEMO_MODEL = "tinkerlite/tiny-chat"
DEMO_DATASET = "tiny_chat.jsonl"

OPTIONS: list[Option] = [
    Option("log_path", str, None, "run directory (default: ./runs/sl-<timestamp>)"),
    Option("model_name", str, DEMO_MODEL, "base model"),
    Option("renderer_name", str | None, None, "chat renderer (default: the model's recommended one)"),
    Option("file_path", str | None, None, "chat JSONL ({'messages': [...]}) (default: the bundled tiny_chat.jsonl)"),
    Option("batch_size", int, 16, "conversations per step"),
    Option("max_length", int | None, 512, "truncate rendered conversations to this many tokens"),
    Option("train_on_what", str | None, None, "TrainOnWhat mode (default: all_assistant_messages)"),
    Option("test_size", int, 24, "rows held out for test/nll"),
    Option("shuffle_seed", int, 0, "seed of the train/test split shuffle"),
    Option("learning_rate", float | None, None, "peak LR (default: get_lr(model), 3e-3 for the tiny model)"),
    Option("lr_schedule", str, "cosine", "linear | cosine | constant"),
    Option("warmup_steps", int, 5, "linear warmup steps"),
    Option("num_epochs", int, 10, "passes over the data"),
    Option("max_steps", int | None, None, "stop after this many steps"),
    Option("lora_rank", int, 32, "LoRA rank"),
    Option("save_every", int, 20, "checkpoint every N steps (0: only the final one)"),
    Option("eval_every", int, 5, "test NLL every N steps (0: never)"),
    Option("submit_ahead", int, 4, "pipeline depth (0: no pipelining)"),
    Option("ttl_seconds", int | None, 604800, "TTL of periodic checkpoints"),
    *ENDPOINT_OPTIONS,
    Option("sample_prompts", int, 2, "held-out test prompts to sample before and after training (0: none)"),
]


def _sample(service_client: Any, renderer: Any, conversations: list[list[dict[str, Any]]], **where: str) -> list[str]:
    from ..types import SamplingParams

    client = service_client.create_sampling_client(**where).result()
    out = []
    for conv in conversations:
        prompt = renderer.build_generation_prompt(conv)
        params = SamplingParams(max_tokens=48, temperature=0.0, stop=renderer.get_stop_sequences())
        seq = client.sample(prompt, num_samples=1, sampling_params=params).result().sequences[0]
        message, _ = renderer.parse_response(seq.tokens)
        content = message.get("content", "")
        out.append(content if isinstance(content, str) else str(content))
    return out


def _default_lr(model_name: str) -> float:
    """``hyperparam_utils.get_lr`` for a known model, else the cookbook's 1e-4."""
    try:
        from ..hyperparam_utils import get_lr

        return float(get_lr(model_name))
    except Exception:  # unknown model: the cookbook's default
        return 1e-4


def _held_out_prompts(file_path: str, test_size: int, shuffle_seed: int | None, n: int) -> list[list[dict[str, Any]]]:
    """The first ``n`` rows of the test split (same shuffle as the dataset builder), as generation prompts.

    Held-out rows, so the after-training sample shows what the model learned, not what it memorised;
    with no test split (``test_size=0``) there is nothing held out, and no sample is shown.
    """
    import random

    from .data import read_conversation_file

    if n <= 0 or test_size <= 0:
        return []
    rows = [messages for _, messages in read_conversation_file(file_path)]
    if len(rows) <= test_size:
        return []
    order = list(range(len(rows)))
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(order)
    prompts = []
    for i in order[: min(n, test_size)]:
        turns = [dict(m) for m in rows[i]]
        first_answer = next((k for k, m in enumerate(turns) if m["role"] == "assistant"), len(turns))
        if first_answer > 0:
            prompts.append(turns[:first_answer])
    return prompts


def main(argv: Sequence[str]) -> int:
    return run_cli("tinkerlite sl", __doc__ or "", OPTIONS, argv, _run)


def _run(v: dict[str, Any]) -> int:
    from .._resources import example_data_path
    from ..renderers import TrainOnWhat
    from .data import FromConversationFileBuilder
    from .train import Config, run
    from .types import ChatDatasetBuilderCommonConfig

    log_path = prepare_log_dir(v, "sl")
    file_path = v["file_path"] or str(example_data_path(DEMO_DATASET))
    renderer_name = recommended_renderer(v["model_name"], v["renderer_name"])
    learning_rate = v["learning_rate"]
    if learning_rate is None and v["model_name"] == DEMO_MODEL:
        learning_rate = 3e-3  # the tiny model learns in about a minute at this LR; real models use get_lr
    elif learning_rate is None:
        learning_rate = _default_lr(v["model_name"])
    prompts = _held_out_prompts(file_path, v["test_size"], v["shuffle_seed"], v["sample_prompts"])
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=v["model_name"],
        renderer_name=renderer_name,
        max_length=v["max_length"],
        batch_size=v["batch_size"],
        train_on_what=TrainOnWhat(v["train_on_what"]) if v["train_on_what"] else None,
    )
    with _endpoint(v["base_url"], log_path, v["api_key"]) as (base_url, api_key):
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(base_url=base_url, api_key=api_key)
        try:
            builder = FromConversationFileBuilder(
                common_config=common, file_path=file_path, test_size=v["test_size"], shuffle_seed=v["shuffle_seed"]
            )
            config = Config(
                log_path=log_path,
                model_name=v["model_name"],
                recipe_name="sl",
                dataset_builder=builder,
                renderer_name=renderer_name,
                learning_rate=learning_rate,
                lr_schedule=v["lr_schedule"],
                warmup_steps=v["warmup_steps"],
                num_epochs=v["num_epochs"],
                lora_rank=v["lora_rank"],
                base_url=base_url,
                api_key=api_key,
                save_every=v["save_every"],
                eval_every=v["eval_every"],
                ttl_seconds=v["ttl_seconds"],
                max_steps=v["max_steps"],
                submit_ahead=v["submit_ahead"],
            )
            renderer = builder.renderer
            before = _sample(service_client, renderer, prompts, base_model=v["model_name"]) if prompts else []
            print(f"training {v['model_name']} with renderer {renderer_name} on {file_path}; logs in {log_path}")
            summary = run(config, service_client=service_client)
            after = (
                _sample(service_client, renderer, prompts, model_path=summary["sampler_path"])
                if prompts and summary.get("sampler_path")
                else []
            )
        finally:
            service_client.close()
    _report(log_path, summary, prompts, before, after)
    return 0


def _clip(text: str, limit: int = 72) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _report(
    log_path: str, summary: dict[str, Any], prompts: list[list[dict[str, Any]]], before: list[str], after: list[str]
) -> None:
    from ..plotting import report_files

    print()
    if summary["steps_run"] == 0:
        print(f"{log_path} already holds this run's final checkpoint: nothing left to train")
    else:
        print(
            f"steps {summary['steps_run']}  train NLL {summary['first_train_nll']:.4f} -> "
            f"{summary['last_train_nll']:.4f}"
            + (f"  final test/nll {summary['test/nll']:.4f}" if "test/nll" in summary else "")
        )
    for conv, b, a in zip(prompts, before, after, strict=False):
        question = conv[-1].get("content", "")
        print(f"\nprompt: {question!r}\n  before: {_clip(b)!r}\n  after:  {_clip(a)!r}")
    print(f"\n{report_files(log_path)}")
    if summary.get("state_path"):
        print(f"final checkpoint: {summary['state_path']}")
