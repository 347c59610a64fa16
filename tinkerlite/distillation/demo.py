"""The offline demo task: a teacher fine-tuned on the bundled tiny chat set, a base-model student.

The teacher is "differently trained" in the plainest way: a few supervised steps on the chat answers
turn the random-initialised tiny model into one that puts most of its mass on short English replies,
while the student starts from the untouched base weights. Distillation should then pull the student's
samples towards what the teacher would say, which the falling ``teacher_kl`` measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..types import AdamParams

__all__ = ["load_demo_conversations", "train_teacher"]


def load_demo_conversations(path: str | None = None) -> list[list[dict[str, Any]]]:
    from .._resources import example_data_path
    from ..supervised.data import read_conversation_file

    file_path = path or str(example_data_path("tiny_chat.jsonl"))
    return [[dict(m) for m in messages] for _, messages in read_conversation_file(file_path)]


def train_teacher(
    service_client: Any,
    conversations: Sequence[list[dict[str, Any]]],
    *,
    model_name: str = "tinkerlite/tiny-chat",
    renderer_name: str = "role_colon",
    steps: int = 30,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    lora_rank: int = 16,
    name: str = "teacher",
) -> str:
    """Fine-tune a fresh LoRA on ``conversations`` and return its sampler checkpoint path."""
    from ..renderers import get_renderer
    from ..supervised.data import conversation_to_datum
    from ..tokenizers import get_tokenizer

    renderer = get_renderer(renderer_name, get_tokenizer(model_name))
    data = [conversation_to_datum(c, renderer, 256) for c in conversations]  # type: ignore[arg-type]
    tc = service_client.create_lora_training_client(base_model=model_name, rank=lora_rank).result()
    adam = AdamParams(learning_rate=learning_rate)
    for step in range(steps):
        start = (step * batch_size) % len(data)
        batch = (data + data)[start : start + batch_size]
        tc.forward_backward(batch, "cross_entropy")
        tc.optim_step(adam)
    path: str = tc.save_weights_for_sampler(name).result().path
    return path
