"""Supervised fine-tuning in a dozen lines: the library form of ``python -m tinkerlite sl``.

Runs against an embedded local server with the built-in tiny model by default. To use the real
service, set TINKER_BASE_URL / TINKER_API_KEY and pass a real model and renderer, e.g.
``python examples/sl_basic.py Qwen/Qwen3-8B qwen3 my_data.jsonl``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from tinkerlite._resources import example_data_path
from tinkerlite.local import serve
from tinkerlite.supervised import train
from tinkerlite.supervised.data import FromConversationFileBuilder
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig


def main(model_name: str = "tinkerlite/tiny-chat", renderer_name: str = "role_colon", data: str | None = None) -> None:
    data = data or str(example_data_path("tiny_chat.jsonl"))
    with contextlib.ExitStack() as stack:
        base_url, api_key = os.environ.get("TINKER_BASE_URL"), None
        if not base_url:
            api_key = "tml-local-example"
            base_url = stack.enter_context(serve(api_key=api_key))
        config = train.Config(
            log_path=tempfile.mkdtemp(prefix="sl-basic-"),
            model_name=model_name,
            renderer_name=renderer_name,
            dataset_builder=FromConversationFileBuilder(
                common_config=ChatDatasetBuilderCommonConfig(
                    model_name_for_tokenizer=model_name, renderer_name=renderer_name, max_length=512, batch_size=16
                ),
                file_path=data,
                test_size=24,
            ),
            learning_rate=3e-3 if model_name == "tinkerlite/tiny-chat" else None,
            lr_schedule="cosine",
            warmup_steps=5,
            num_epochs=10,
            eval_every=5,
            base_url=base_url,
            api_key=api_key,
        )
        summary = train.run(config)
    print(f"train NLL {summary['first_train_nll']:.3f} -> {summary['last_train_nll']:.3f}; logs in {config.log_path}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
