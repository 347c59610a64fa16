"""``tinkerlite distill key=value ...``: on-policy distillation from the command line.

The student (``model_name``, fresh LoRA) samples replies to the user prompts of ``file_path`` (chat JSONL,
``{"messages": [...]}``; the first user message of each row is the prompt); the teacher
(``teacher_model`` + ``teacher_checkpoint``) scores the student's tokens, and the per-token reverse KL
is the advantage. With no ``teacher_checkpoint`` the job first fine-tunes a teacher on the file's
conversations (a few supervised steps), so the default command is a complete offline demo: a
differently trained teacher, a base-model student, and ``teacher_kl`` falling. Without ``base_url``
(and no ``TINKER_BASE_URL``) it runs against an embedded local server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..cli_utils import ENDPOINT_OPTIONS, Option, prepare_log_dir, recommended_renderer, run_cli
from ..errors import ValidationError

__all__ = ["OPTIONS", "main"]

DEMO_MODEL = "tinkerlite/tiny-chat"

OPTIONS: list[Option] = [
    Option("log_path", str, None, "run directory (default: ./runs/distill-<timestamp>)"),
    Option("model_name", str, DEMO_MODEL, "student base model"),
    Option("renderer_name", str | None, None, "chat renderer (default: the model's recommended one)"),
    Option("file_path", str | None, None, "chat JSONL whose user prompts are sampled (default: bundled tiny_chat)"),
    Option("teacher_model", str | None, None, "teacher base model (default: model_name; must share the tokenizer)"),
    Option("teacher_checkpoint", str | None, None, "teacher sampler path (default: fine-tune one on file_path)"),
    Option("teacher_steps", int, 30, "supervised steps for the default teacher"),
    Option("group_size", int, 4, "samples per prompt"),
    Option("groups_per_batch", int, 8, "prompts per step"),
    Option("max_tokens", int, 24, "max sampled tokens per reply"),
    Option("temperature", float, 1.0, "sampling temperature"),
    Option("learning_rate", float | None, None, "LR (default 3e-3 for the tiny model, else 1e-4)"),
    Option("lora_rank", int, 16, "student LoRA rank"),
    Option("kl_penalty_coef", float, 1.0, "weight of the reverse-KL advantage"),
    Option("kl_discount_factor", float, 0.0, "discount of future KL in the advantage (0: per token)"),
    Option("max_steps", int | None, 15, "stop after this many steps (None: one pass over the prompts)"),
    Option("save_every", int, 20, "checkpoint every N steps (0: only the final one)"),
    *ENDPOINT_OPTIONS,
]


def main(argv: Sequence[str]) -> int:
    return run_cli("tinkerlite distill", __doc__ or "", OPTIONS, argv, _run)


def _run(v: dict[str, Any]) -> int:
    from ..local_endpoint import endpoint
    from .datasets import DistillationDatasetConfig, PromptOnlyDatasetBuilder, TeacherConfig
    from .demo import load_demo_conversations, train_teacher
    from .train_on_policy import Config, run

    log_path = prepare_log_dir(v, "distill")
    conversations = load_demo_conversations(v["file_path"])  # validated up front, with file:line errors
    prompts = tuple(
        next((str(m["content"]) for m in c if m["role"] == "user" and str(m.get("content", "")).strip()), "")
        for c in conversations
    )
    prompts = tuple(p for p in prompts if p)
    if not prompts:
        raise ValidationError("no row has a non-empty user message to use as a prompt", field="file_path")
    renderer_name = recommended_renderer(v["model_name"], v["renderer_name"])
    teacher_model = v["teacher_model"] or v["model_name"]
    learning_rate = v["learning_rate"] or (3e-3 if v["model_name"] == DEMO_MODEL else 1e-4)
    with endpoint(v["base_url"], log_path, v["api_key"]) as (base_url, api_key):
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(base_url=base_url, api_key=api_key)
        try:
            teacher_path = v["teacher_checkpoint"]
            if teacher_path is None:
                print(
                    f"no teacher_checkpoint: fine-tuning a teacher on {len(conversations)} conversations "
                    f"({v['teacher_steps']} steps)"
                )
                teacher_path = train_teacher(
                    service_client,
                    conversations,
                    model_name=teacher_model,
                    renderer_name=renderer_name,
                    steps=v["teacher_steps"],
                )
                print(f"teacher: {teacher_path}")
            builder = PromptOnlyDatasetBuilder(
                dataset_name="prompts",
                groups_per_batch=v["groups_per_batch"],
                group_size=v["group_size"],
                model_name_for_tokenizer=v["model_name"],
                renderer_name=renderer_name,
                prompts=list(prompts),
            )
            config = Config(
                recipe_name="distill",
                learning_rate=learning_rate,
                dataset_configs=[
                    DistillationDatasetConfig(
                        dataset_builder=builder,
                        teacher_config=TeacherConfig(base_model=teacher_model, load_checkpoint_path=teacher_path),
                        groups_per_batch=v["groups_per_batch"],
                    )
                ],
                model_name=v["model_name"],
                max_tokens=v["max_tokens"],
                log_path=log_path,
                renderer_name=renderer_name,
                temperature=v["temperature"],
                lora_rank=v["lora_rank"],
                kl_penalty_coef=v["kl_penalty_coef"],
                kl_discount_factor=v["kl_discount_factor"],
                max_steps=v["max_steps"],
                save_every=v["save_every"],
                base_url=base_url,
                api_key=api_key,
            )
            print(f"distilling {teacher_model} ({teacher_path}) into {v['model_name']}; logs in {log_path}")
            summary = run(config, service_client=service_client)
        finally:
            service_client.close()
    hist = [x for x in summary["teacher_kl_history"] if not math.isnan(x)]
    print()
    if hist:
        print(f"steps {summary['steps_run']}  teacher_kl {hist[0]:.4f} -> {hist[-1]:.4f}")
    from ..plotting import report_files

    print(report_files(log_path))
    if summary.get("state_path"):
        print(f"final checkpoint: {summary['state_path']}")
    return 0
