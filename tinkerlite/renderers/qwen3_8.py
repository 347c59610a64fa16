"""Qwen3.8: the Qwen3.5 format with a reasoning-effort sentence, thinking kept in history, JSON arg values.

The template's ``reasoning_effort`` (xhigh default, medium, low) puts an instruction at the start of the
system message (a system message is created for it when there is none); an empty system message renders
nothing; every assistant that did not reason gets the empty think block; non-string tool arguments are
``tojson`` (``true``/``null``).
"""

from __future__ import annotations

import json
from typing import Any

from tinkerlite.renderers.content import Message, RenderContext, Role, TextPart
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.qwen3_5 import Qwen3_5Renderer
from tinkerlite.types import ModelInput, TensorData

__all__ = ["REASONING_EFFORT_INSTRUCTIONS", "Qwen3_8DisableThinkingRenderer", "Qwen3_8Renderer"]

REASONING_EFFORT_INSTRUCTIONS: dict[str, str] = {
    "xhigh": (
        "Reasoning effort is set to xhigh. Please think carefully through the task, validate key assumptions, "
        "consider plausible alternatives, and prioritize correctness, consistency, and clarity in the final answer."
    ),
    "medium": "",
    "low": (
        "Reasoning effort is set to low. Keep your thinking brief and focused, moving directly to the conclusion "
        "without unnecessary elaboration."
    ),
}


class Qwen3_8Renderer(Qwen3_5Renderer):
    """Qwen3.8 with thinking on at ``reasoning_effort`` (``qwen3_8_{xhigh,medium,low}_reasoning``)."""

    # The cookbook's signatures for these two (its overrides forward *args/**kwargs); the behaviour is the base's.
    def build_generation_prompt(self, messages: list[Message], *args: Any, **kwargs: Any) -> ModelInput:
        return super().build_generation_prompt(messages, *args, **kwargs)

    def build_supervised_example(
        self, messages: list[Message], *args: Any, **kwargs: Any
    ) -> tuple[ModelInput, TensorData]:
        return super().build_supervised_example(messages, *args, **kwargs)

    def __init__(
        self,
        tokenizer: Any,
        image_processor: Any = None,
        strip_thinking_from_history: bool = False,
        merge_text_chunks: bool = True,
        reasoning_effort: str = "xhigh",
    ) -> None:
        if reasoning_effort not in REASONING_EFFORT_INSTRUCTIONS:
            raise RendererError(
                f"Unexpected reasoning effort {reasoning_effort}. "
                "Supported types are xhigh (default), medium, and low.",
                field="reasoning_effort",
            )
        super().__init__(
            tokenizer,
            image_processor=image_processor,
            strip_thinking_from_history=strip_thinking_from_history,
            merge_text_chunks=merge_text_chunks,
        )
        self.reasoning_effort = reasoning_effort

    @property
    def _reasoning_instructions(self) -> str:
        return "" if self.disables_thinking else REASONING_EFFORT_INSTRUCTIONS[self.reasoning_effort]

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        """The instruction first in the system message (idempotent); an empty system message dropped."""
        instructions = self._reasoning_instructions
        if messages and messages[0]["role"] == "system":
            first, rest = messages[0], list(messages[1:])
            content = first["content"]
            if isinstance(content, list):
                texts = [p["text"] for p in content if p["type"] == "text"]
                if len(texts) != len(content):
                    if not instructions:
                        return list(messages)
                    parts = list(content)
                    if parts[0]["type"] == "text" and parts[0]["text"].startswith(instructions):
                        return list(messages)
                    return [{**first, "content": [TextPart(type="text", text=f"{instructions}\n\n"), *parts]}, *rest]
                content = "".join(texts)
            content = content.strip()
            if not content and not instructions:
                return rest
            if instructions and not (content == instructions or content.startswith(f"{instructions}\n\n")):
                content = f"{instructions}\n\n{content}" if content else instructions
            return [{**first, "content": content}, *rest]
        if instructions:
            synthetic = Message(role="system", content=instructions)
            if any("trainable" in m for m in messages):
                synthetic["trainable"] = False
            return [synthetic, *messages]
        return list(messages)

    def _format_tool_call_argument(self, value: object) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    def _strips_thinking_for(self, message: Message, ctx: RenderContext) -> bool:
        return self.strip_thinking_from_history and message["role"] == "assistant" and ctx.idx <= ctx.last_user_index

    def _assistant_header_suffix(self, message: Message, ctx: RenderContext) -> str:
        """An empty block on every assistant that did not reason (only ThinkingParts count as reasoning)."""
        if self.strip_thinking_from_history and ctx.idx <= ctx.last_user_index:
            return ""
        content = message.get("content", "")
        reasons = isinstance(content, list) and any(p["type"] == "thinking" for p in content)
        return "" if reasons else "<think>\n\n</think>\n\n"


class Qwen3_8DisableThinkingRenderer(Qwen3_8Renderer):
    """Qwen3.8 with ``enable_thinking=False``: closed empty block in the prompt, no effort sentence."""

    disables_thinking = True

    def _generation_suffix_str(self, role: Role, ctx: RenderContext) -> str:
        return ("\n" if ctx.idx > 0 else "") + f"<|im_start|>{role}\n<think>\n\n</think>\n\n"
