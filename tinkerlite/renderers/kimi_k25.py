"""Kimi K2.5 (and K2.6): K2's format with a ``<think>`` prefill and TypeScript-style tool declarations.

``kimi_k25`` / ``kimi_k26`` prefill the generation prompt with ``<think>`` (thinking on); the disable
variants prefill ``<think></think>``. Several content parts in a non-assistant message are encoded one
segment each; an image part becomes ``<|media_begin|>image<|media_content|>``, the image chunk and
``<|media_end|>\n`` (needs an image processor and Pillow, the ``vision`` extra).
"""

from __future__ import annotations

from typing import Any

from tinkerlite.renderers.content import Message, Role
from tinkerlite.renderers.encoding import chunk, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.images import image_to_chunk
from tinkerlite.renderers.kimi_k2 import KimiK2Renderer
from tinkerlite.renderers.kimi_k2_5_tool_declaration_ts import encode_tools_to_typescript_style
from tinkerlite.renderers.tool_calls import ToolSpec
from tinkerlite.types import ModelInput, ModelInputChunk

__all__ = ["KimiK25DisableThinkingRenderer", "KimiK25Renderer"]


class KimiK25Renderer(KimiK2Renderer):
    """Kimi K2.5 with thinking on: the prompt ends ``<|im_assistant|>assistant<|im_middle|><think>``."""

    _prefill = "<think>"
    multipart_content = True
    accepts_images = True

    def __init__(self, tokenizer: Any, image_processor: Any = None, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer, strip_thinking_from_history=strip_thinking_from_history)
        self.image_processor = image_processor
        self._think_open_token = single_token(tokenizer, "<think>")
        self._think_close_token = single_token(tokenizer, "</think>")

    def _generation_prompt(self, messages: list[Message], role: Role, prefill: str | None) -> ModelInput:
        return super()._generation_prompt(messages, role, self._prefill + (prefill or ""))

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        """Put back the ``<think>`` prefill the sampler never returned (only when the block closes)."""
        if response and response[0] != self._think_open_token and self._think_close_token in response:
            return [self._think_open_token, *response]
        return response

    def _encode_multipart_content(self, content: list[Any], idx: int) -> list[ModelInputChunk]:
        out: list[ModelInputChunk] = []
        for j, part in enumerate(content):
            if part["type"] == "text":
                out.append(chunk(self._encode(part["text"])))
            elif part["type"] == "image":
                if self.image_processor is None:
                    raise RendererError(
                        "KimiK25Renderer must be initialized with an image processor in order to support image "
                        "content parts (get_renderer(name, tokenizer, image_processor=...))",
                        field=f"messages[{idx}].content[{j}]",
                    )
                out.append(chunk(self._encode(self._image_prefix)))
                out.append(image_to_chunk(part["image"], self.image_processor))
                out.append(chunk(self._encode(self._image_suffix)))
            else:
                raise RendererError(f"Unsupported content type: {part['type']}", field=f"messages[{idx}].content[{j}]")
        return out

    _image_prefix = "<|media_begin|>image<|media_content|>"
    _image_suffix = "<|media_end|>\n"

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """A ``tool_declare`` message in TypeScript style, then the system message (default if empty)."""
        out: list[Message] = []
        if tools:
            payload = [{"type": "function", "function": tool} for tool in tools]
            out.append(Message(role="tool_declare", content=encode_tools_to_typescript_style(payload)))
        out.append(Message(role="system", content=system_prompt or self.DEFAULT_SYSTEM_PROMPT))
        return out


class KimiK25DisableThinkingRenderer(KimiK25Renderer):
    """Kimi K2.5 with thinking off: the prompt ends with the closed block ``<think></think>``."""

    disables_thinking = True
    _prefill = "<think></think>"
