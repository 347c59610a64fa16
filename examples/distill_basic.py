"""On-policy distillation in ~40 lines, offline: fine-tune a teacher, then distil it into the base model.

    python examples/distill_basic.py

Several teachers work the same way: one ``DistillationDatasetConfig`` per (prompt set, teacher); every
step samples each set, scores each sample with its own teacher, and logs ``teacher_kl/dataset_<i>``.
"""

from __future__ import annotations

import tempfile

from tinkerlite.client.service_client import ServiceClient
from tinkerlite.distillation.datasets import DistillationDatasetConfig, PromptOnlyDatasetBuilder, TeacherConfig
from tinkerlite.distillation.demo import load_demo_conversations, train_teacher
from tinkerlite.distillation.train_on_policy import Config, run
from tinkerlite.local_endpoint import endpoint

MODEL = "tinkerlite/tiny-chat"


def main() -> None:
    conversations = load_demo_conversations()
    prompts = tuple(str(c[0]["content"]) for c in conversations)
    with endpoint(None) as (base_url, api_key):
        service = ServiceClient(base_url=base_url, api_key=api_key)
        try:
            teacher_path = train_teacher(service, conversations, steps=30)  # the "differently trained" model
            dataset = DistillationDatasetConfig(
                PromptOnlyDatasetBuilder(
                    prompts,
                    groups_per_batch=8,
                    model_name_for_tokenizer=MODEL,
                    renderer_name="role_colon",
                    group_size=4,
                ),
                TeacherConfig(base_model=MODEL, load_checkpoint_path=teacher_path),
                groups_per_batch=8,
            )
            config = Config(
                learning_rate=3e-3,
                dataset_configs=[dataset],
                model_name=MODEL,
                max_tokens=24,
                log_path=tempfile.mkdtemp(prefix="distill-basic-"),
                lora_rank=16,
                kl_penalty_coef=1.0,
                kl_discount_factor=0.0,
                max_steps=15,
            )
            summary = run(config, service_client=service)
        finally:
            service.close()
    kl = summary["teacher_kl_history"]
    print(f"teacher_kl {kl[0]:.3f} -> {kl[-1]:.3f}; metrics in {config.log_path}/metrics.jsonl")


if __name__ == "__main__":
    main()
