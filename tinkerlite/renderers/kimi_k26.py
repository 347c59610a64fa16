"""Kimi K2.6: the K2.5 format; ``kimi_k26_preserve_thinking`` keeps reasoning in history.

``kimi_k26`` and ``kimi_k26_disable_thinking`` are the K2.5 classes (the templates render the same
tokens); HF's ``preserve_thinking=true`` is ``strip_thinking_from_history=False``.
"""

from __future__ import annotations

from typing import Any

from tinkerlite.renderers.kimi_k25 import KimiK25Renderer

__all__ = ["KimiK26PreserveThinkingRenderer"]


class KimiK26PreserveThinkingRenderer(KimiK25Renderer):
    """Kimi K2.6 with every historical assistant turn keeping its ``<think>...</think>``."""

    def __init__(self, tokenizer: Any, image_processor: Any = None) -> None:
        super().__init__(tokenizer, image_processor=image_processor, strip_thinking_from_history=False)
