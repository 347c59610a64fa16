"""Nemotron 3 (Nano, Super, Ultra) and Nemotron 3.5: the Qwen3.5 frame with NVIDIA's template differences.

From the Nemotron HF templates: a system block is always written (empty when there is none); every
assistant message whose reasoning is not shown gets ``<think></think>`` (history too); reasoning is
``<think>\\n{t}\\n</think>\\n`` (Ultra / 3.5: ``<think>\\n{t}</think>``); thinking is stripped only before
the last user message; tool calls end with ``\\n`` each and tool results ``\\n</tool_response>\\n``; tools
are declared as XML after the system prompt; the disable variants' prompt ends ``<think></think>``; low /
medium effort append ``{reasoning effort: low|efficient}`` to the last user message.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from tinkerlite.renderers.content import ContentPart, Message, RenderContext, RenderedMessage, Role, has_thinking
from tinkerlite.renderers.encoding import encode
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.qwen3_5 import TOOLS_TEMPLATE, Qwen3_5Renderer
from tinkerlite.renderers.tool_calls import ToolSpec, tool_calls_of
from tinkerlite.types import ModelInput, TensorData

__all__ = [
    "Nemotron3DisableThinkingRenderer",
    "Nemotron3LowThinkingRenderer",
    "Nemotron3PreserveThinkingRenderer",
    "Nemotron3Renderer",
    "Nemotron3UltraDisableThinkingRenderer",
    "Nemotron3UltraMediumThinkingRenderer",
    "Nemotron3UltraPreserveThinkingRenderer",
    "Nemotron3UltraRenderer",
]

# The same tools preamble as Qwen3.5's; Nemotron puts its own declarations where Qwen3.5 puts JSON.
_TOOLS_INTRO, _TOOLS_OUTRO = TOOLS_TEMPLATE.split("{tools}")


def _extra_keys(obj: Mapping[str, Any], handled: set[str]) -> list[str]:
    """The template's ``render_extra_keys``: ``<key>value</key>``, containers as JSON."""
    return [
        f"<{k}>{json.dumps(v)}</{k}>" if isinstance(v, (dict, list)) else f"<{k}>{v!s}</{k}>"
        for k, v in obj.items()
        if k not in handled
    ]


def _tool_declaration(tool: ToolSpec) -> str:
    lines = ["<function>", f"<name>{tool['name']}</name>"]
    if tool.get("description", "").strip():
        lines.append(f"<description>{tool['description'].strip()}</description>")
    lines.append("<parameters>")
    params: Any = tool.get("parameters") or {}
    if isinstance(params, dict) and "properties" in params:
        for name, fields in params["properties"].items():
            lines += ["<parameter>", f"<name>{name}</name>"]
            if "type" in fields:
                lines.append(f"<type>{fields['type']!s}</type>")
            if "description" in fields:
                lines.append(f"<description>{fields['description'].strip()}</description>")
            if "enum" in fields:
                lines.append(f"<enum>{json.dumps(fields['enum'])}</enum>")
            lines += _extra_keys(fields, {"name", "type", "description", "enum"})
            lines.append("</parameter>")
    if isinstance(params, dict):
        lines += _extra_keys(params, {"type", "properties", "required"})
        if "required" in params:
            lines.append(f"<required>{json.dumps(params['required'])}</required>")
    lines.append("</parameters>")
    lines += _extra_keys(tool, {"type", "name", "description", "parameters"})
    lines.append("</function>")
    return "\n".join(lines)


def _text_parts(content: Any) -> tuple[bool, bool]:
    """(has a thinking part, has a non-empty text part) of list content."""
    if not isinstance(content, list):
        return False, False
    return any(p["type"] == "thinking" for p in content), any(p["type"] == "text" and p["text"] for p in content)


class Nemotron3Renderer(Qwen3_5Renderer):
    """Nemotron 3 Nano / Super with full reasoning."""

    # The cookbook's signatures for these two (its overrides forward *args/**kwargs); the behaviour is the base's.
    def build_generation_prompt(self, messages: list[Message], *args: Any, **kwargs: Any) -> ModelInput:
        return super().build_generation_prompt(messages, *args, **kwargs)

    def build_supervised_example(
        self, messages: list[Message], *args: Any, **kwargs: Any
    ) -> tuple[ModelInput, TensorData]:
        return super().build_supervised_example(messages, *args, **kwargs)

    @property
    def has_extension_property(self) -> bool:
        return not self.strip_thinking_from_history

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        """The template always writes a system block: an empty one when there is none."""
        if not messages or messages[0]["role"] != "system":
            return [Message(role="system", content=""), *messages]
        return messages

    def _assistant_header_suffix(self, message: Message, ctx: RenderContext) -> str:
        historical = ctx.idx < ctx.last_user_index
        content = message.get("content", "")
        if has_thinking(content) and (not historical or not self.strip_thinking_from_history):
            return ""
        if historical and has_thinking(content):
            _, has_text = _text_parts(content)
            if has_text and not message.get("tool_calls"):
                return "<think></think>\n"  # the template keeps the \n after the stripped block
        return "<think></think>"

    def _trim_content(self, content: str | list[ContentPart]) -> str | list[ContentPart]:
        return content.strip() if isinstance(content, str) else content

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        # Thinking is stripped only before the last user message (the template's truncate_history_thinking).
        if message["role"] == "assistant" and ctx.idx >= ctx.last_user_index and not ctx.is_last:
            ctx = dataclasses.replace(ctx, is_last=True)
        return super().render_message(message, ctx)

    def _format_thinking_text(self, thinking: str) -> str:
        return f"<think>\n{thinking}\n</think>\n"

    _tool_response_closing = "\n</tool_response>\n"

    def _wrap_image_parts(self, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The Nemotron 3.5 template: ``<img>`` image ``</img>``, on a new line after text, and labelled
        ``<image N>`` (counted per message) when a message has more than one image."""
        num_images = sum(p["type"] == "image" for p in parts)
        if not num_images:
            return parts
        out: list[dict[str, Any]] = []
        index, text_before = 0, ""
        for p in parts:
            if p["type"] != "image":
                out.append(p)
                text_before = p["text"] or text_before
                continue
            index += 1
            newline = "\n" if text_before and not text_before.endswith("\n") else ""
            label = f"<image {index}>" if num_images > 1 else ""
            out += [{"type": "text", "text": f"{newline}{label}<img>"}, p, {"type": "text", "text": "</img>"}]
            text_before = ""
        return out

    def _tool_response_continuation_header(self) -> str:
        return ""

    def _format_tool_calls_text(self, message: Message, idx: int) -> str:
        has_think, has_text = _text_parts(message.get("content", ""))
        prefix = "" if (has_think and not has_text) else "\n"
        calls = tool_calls_of(message, idx)
        return prefix + "".join(self._format_tool_call_xml(tc, idx, j) + "\n" for j, tc in enumerate(calls))

    def _postprocess(self, message: Message) -> None:
        """One separator newline after ``</think>`` (Qwen3.5 has two), then Qwen3.5's clean-up."""
        self._strip_separator(message, "\n")
        super()._postprocess(message)

    @staticmethod
    def _strip_separator(message: Message, sep: str) -> None:
        content = message.get("content")
        if not isinstance(content, list):
            return
        seen_thinking = False
        for p in content:
            if p["type"] == "thinking":
                seen_thinking = True
            elif seen_thinking and p["type"] == "text":
                if p["text"].startswith(sep):
                    p["text"] = p["text"][len(sep) :]
                break

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """One system message: the system prompt first, then the tools as XML."""
        if not tools:
            return [Message(role="system", content=system_prompt)]
        text = _TOOLS_INTRO + "\n".join(_tool_declaration(t) for t in tools) + _TOOLS_OUTRO
        return [Message(role="system", content=system_prompt + "\n\n" + text if system_prompt else text)]


class Nemotron3PreserveThinkingRenderer(Nemotron3Renderer):
    """Nemotron 3 keeping reasoning in history (HF ``truncate_history_thinking=False``)."""

    def __init__(self, tokenizer: Any) -> None:
        super().__init__(tokenizer, strip_thinking_from_history=False)


def _append_to_last_user(message: Message, ctx: RenderContext, suffix: str, *, text_only: bool) -> Message:
    if message["role"] != "user" or ctx.idx != ctx.last_user_index:
        return message
    content = message.get("content", "")
    if isinstance(content, str):
        return {**message, "content": content + suffix}
    if text_only:
        raise RendererError(
            "Nemotron-3 low-thinking mode is text-only; list content not supported",
            field=f"messages[{ctx.idx}].content",
        )
    return {**message, "content": [*content, {"type": "text", "text": suffix}]}


class Nemotron3LowThinkingRenderer(Nemotron3Renderer):
    """Nemotron 3 Super, low effort: ``{reasoning effort: low}`` after the last user message."""

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        message = _append_to_last_user(message, ctx, "\n\n{reasoning effort: low}", text_only=True)
        return super().render_message(message, ctx)


class Nemotron3UltraRenderer(Nemotron3Renderer):
    """Nemotron 3 Ultra / 3.5: ``<think>\\n{t}</think>`` with no separator, an empty block before history text."""

    def _assistant_header_suffix(self, message: Message, ctx: RenderContext) -> str:
        historical = ctx.idx < ctx.last_user_index
        if has_thinking(message.get("content", "")) and (not historical or not self.strip_thinking_from_history):
            return ""
        return "<think></think>"

    def _format_thinking_text(self, thinking: str) -> str:
        return f"<think>\n{thinking}</think>"

    def _format_tool_calls_text(self, message: Message, idx: int) -> str:
        calls = tool_calls_of(message, idx)
        return "\n" + "".join(self._format_tool_call_xml(tc, idx, j) + "\n" for j, tc in enumerate(calls))

    def _postprocess(self, message: Message) -> None:
        Qwen3_5Renderer._postprocess(self, message)  # no separator after </think> to strip


class Nemotron3UltraPreserveThinkingRenderer(Nemotron3UltraRenderer):
    """Ultra format keeping reasoning in history."""

    def __init__(self, tokenizer: Any, image_processor: Any = None) -> None:
        super().__init__(tokenizer, image_processor=image_processor, strip_thinking_from_history=False)


class Nemotron3UltraMediumThinkingRenderer(Nemotron3UltraRenderer):
    """Ultra / 3.5 Super, medium effort: ``{reasoning effort: efficient}`` after the last user message."""

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        message = _append_to_last_user(message, ctx, "\n\n{reasoning effort: efficient}", text_only=False)
        return super().render_message(message, ctx)


class Nemotron3DisableThinkingRenderer(Nemotron3Renderer):
    """Nemotron 3 with reasoning off: the prompt ends ``<think></think>`` (no newlines)."""

    disables_thinking = True

    def _get_generation_suffix(self, role: Role, ctx: RenderContext) -> list[int]:
        return encode(self.tokenizer, ("\n" if ctx.idx > 0 else "") + f"<|im_start|>{role}\n<think></think>")


class Nemotron3UltraDisableThinkingRenderer(Nemotron3UltraRenderer, Nemotron3DisableThinkingRenderer):
    """Ultra format with reasoning off."""
