"""Qwen3 (hybrid thinking), Qwen3 with thinking disabled, and Qwen3-2507 Instruct."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tinkerlite.renderers.base import EndTokenRenderer
from tinkerlite.renderers.content import (
    ContentPart,
    Message,
    RenderContext,
    RenderedMessage,
    Role,
    has_thinking,
    remove_thinking,
)
from tinkerlite.renderers.encoding import chunk, encode, encode_literal, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.images import image_to_chunk
from tinkerlite.renderers.parsing import detect_unterminated_tool_block, parse_content_blocks
from tinkerlite.renderers.tool_calls import ToolSpec, attach_tool_calls, tool_call_arguments, tool_calls_of
from tinkerlite.types import ModelInputChunk

_TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_POSTAMBLE = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def _frame_thinking(reasoning: str) -> str:
    """The template's frame around the produced turn's reasoning: padded, present even when empty."""
    return "<think>\n" + reasoning.strip("\n") + "\n</think>\n\n"


def _unframe_thinking(parts: list[ContentPart]) -> list[ContentPart]:
    """Inverse of the framing, so parse(render(x)) == x: padding is framing, an empty block no reasoning."""
    out: list[ContentPart] = []
    after_block = False
    for p in parts:
        if p["type"] == "thinking":
            reasoning = p["thinking"].strip("\n")
            if reasoning:
                out.append({"type": "thinking", "thinking": reasoning})
            after_block = True
        elif p["type"] == "text":
            text = p["text"]
            out.append({"type": "text", "text": text.lstrip("\n") if after_block else text})
            after_block = False
        else:
            out.append(p)
            after_block = False
    return out


class Qwen3Renderer(EndTokenRenderer):
    """``<|im_start|>{role}\\n{content}<|im_end|>`` separated by ``\\n``; tools as ``<tool_call>`` JSON.

    The produced turn (the last assistant message, if the conversation has a user message) is framed
    ``<think>\\n{reasoning}\\n</think>\\n\\n{text}`` as the HF template does, with an empty block when it
    did not reason. History assistants lose their ThinkingParts (``strip_thinking_from_history``).
    Bodies are encoded with special-token strings as plain text, so a user cannot close the turn.
    """

    allowed_roles = frozenset({"system", "user", "assistant", "tool"})
    text_only_roles = frozenset()
    frames_thinking = True

    def __init__(self, tokenizer: Any, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history
        self._special_strings: Sequence[str] = tuple(getattr(tokenizer, "all_special_tokens", ()) or ())

    @property
    def has_extension_property(self) -> bool:
        return not self.strip_thinking_from_history

    @property
    def _end_message_token(self) -> int:
        return single_token(self.tokenizer, "<|im_end|>")

    def _frames_produced_turn(self, message: Message, ctx: RenderContext) -> bool:
        """Template rule ``loop.index0 > ns.last_query_index``: only turns after a user message are framed."""
        if not self.frames_thinking or message["role"] != "assistant" or ctx.last_user_index < 0:
            return False
        return ctx.is_last or not self.strip_thinking_from_history

    def _body(self, message: Message, ctx: RenderContext) -> str:
        content = message["content"]
        frames = self._frames_produced_turn(message, ctx)
        if isinstance(content, list):
            parts = content
            if self.strip_thinking_from_history and message["role"] == "assistant" and not ctx.is_last:
                parts = remove_thinking(parts)
            rendered: list[str] = []
            after_block = False
            for p in parts:
                if p["type"] == "thinking":
                    t = p["thinking"]
                    rendered.append(_frame_thinking(t) if frames else f"<think>{t}</think>")
                    after_block = frames
                elif p["type"] == "text":
                    text = p["text"]
                    rendered.append(text.lstrip("\n") if after_block else text)
                    after_block = False
            body = "".join(rendered)
        elif frames and "</think>" in content:
            # Inline reasoning is normalised the way the template normalises it.
            reasoning, _, rest = content.partition("</think>")
            body = _frame_thinking(reasoning.rpartition("<think>")[2]) + rest.lstrip("\n")
        else:
            body = content
        # The separator before tool calls asks about the message's own text, not the empty block.
        has_text = bool(body)
        if frames and not has_thinking(content):
            body = _frame_thinking("") + body.lstrip("\n")
        if message["role"] == "tool":
            body = f"<tool_response>\n{body}\n</tool_response>"
        if "tool_calls" in message:
            calls = []
            for j, tc in enumerate(tool_calls_of(message, ctx.idx)):
                payload = {"name": tc.function.name, "arguments": tool_call_arguments(tc, where=f"tool_calls[{j}]")}
                calls.append(f"<tool_call>\n{json.dumps(payload)}\n</tool_call>")
            body += ("\n" if has_text else "") + "\n".join(calls)
        return body

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = "user" if message["role"] == "tool" else message["role"]
        newline = "\n" if ctx.idx > 0 else ""
        header = encode(self.tokenizer, f"{newline}<|im_start|>{role}\n")
        body = encode_literal(self.tokenizer, self._body(message, ctx), self._special_strings)
        return RenderedMessage(header=chunk(header), output=[chunk(body), chunk([self._end_message_token])])

    def _parse_content(self, message: Message, content: str) -> None:
        blocks = parse_content_blocks(content)
        if blocks is not None:
            parts, calls = blocks
            message["content"] = _unframe_thinking(parts) if self.frames_thinking else parts
            attach_tool_calls(message, calls)
        dangling = detect_unterminated_tool_block(content, "<tool_call>", "</tool_call>")
        if dangling is not None:
            attach_tool_calls(message, [dangling])

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """One system message: the prompt, then the tools as JSON lines inside ``<tools>``."""
        tools_text = ""
        if tools:
            lines = "\n".join(
                json.dumps({"type": "function", "function": tool}, separators=(", ", ": ")) for tool in tools
            )
            tools_text = _TOOLS_PREAMBLE + lines + _TOOLS_POSTAMBLE
        content = system_prompt + "\n\n" + tools_text if system_prompt else tools_text
        return [Message(role="system", content=content)]


class Qwen3DisableThinkingRenderer(Qwen3Renderer):
    """Qwen3 with ``enable_thinking=False``: the prompt ends with the closed block ``<think>\\n\\n</think>\\n\\n``.

    A produced turn that reasons is refused in the last-turn training modes, as the cookbook does (the
    prompt's closed block is then not a prefix of the example); ``strict`` refuses it in every mode. A
    produced turn in a conversation without a user message is refused too.
    """

    disables_thinking = True

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        if message["role"] == "assistant" and ctx.is_last and message.get("content") and ctx.last_user_index < 0:
            raise RendererError(
                "this conversation has no user message, so Qwen3's template writes no empty think block on "
                "the produced turn, but the generation prompt always opens one. Add a user message, or "
                "use the thinking renderer.",
                field=f"messages[{ctx.idx}]",
            )
        return super().render_message(message, ctx)

    def _get_generation_suffix(self, role: Role, ctx: RenderContext) -> list[int]:
        newline = "\n" if ctx.idx > 0 else ""
        return encode(self.tokenizer, f"{newline}<|im_start|>{role}\n<think>\n\n</think>\n\n")


class Qwen3InstructRenderer(Qwen3Renderer):
    """Qwen3-2507 Instruct: no ``<think>`` framing at all (ThinkingParts render as raw ``<think>..</think>``)."""

    frames_thinking = False

    @property
    def has_extension_property(self) -> bool:
        return True


def _merge_text_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent text parts become one segment (the HF template tokenises the whole string at once)."""
    merged: list[dict[str, Any]] = []
    for p in parts:
        if merged and p["type"] == "text" and merged[-1]["type"] == "text":
            merged[-1] = {"type": "text", "text": merged[-1]["text"] + p["text"]}
        else:
            merged.append(p)
    return merged


class Qwen3VLRenderer(Qwen3Renderer):
    """Qwen3-VL (thinking): Qwen3's frame, but content is written as given and encoded as one segment.

    Thinking parts render raw as ``<think>{t}</think>`` (no padding, no empty block on the produced
    turn); tool calls always follow a ``\\n``; the body and ``<|im_end|>`` are one segment, encoded with
    special-token strings matched. Images are wrapped ``<|vision_start|>...<|vision_end|>`` and become one
    JPEG ``ImageChunk`` each (needs the ``image_processor`` given to the renderer, and Pillow).
    Subclasses (Qwen3.5, Qwen3.8, Nemotron 3) change the hooks below.
    """

    accepts_images = True
    groups_consecutive_tool_responses = False
    """Qwen3.5-family templates keep one ``<|im_start|>user`` block open over consecutive tool results."""

    def __init__(
        self,
        tokenizer: Any,
        image_processor: Any = None,
        strip_thinking_from_history: bool = True,
        merge_text_chunks: bool = True,
    ) -> None:
        super().__init__(tokenizer, strip_thinking_from_history=strip_thinking_from_history)
        self.image_processor = image_processor
        self.merge_text_chunks = merge_text_chunks

    # ---- hooks -----------------------------------------------------------------------------------

    def _format_thinking_text(self, thinking: str) -> str:
        return f"<think>{thinking}</think>"

    def _assistant_header_suffix(self, message: Message, ctx: RenderContext) -> str:
        return ""

    def _strips_thinking_for(self, message: Message, ctx: RenderContext) -> bool:
        """History assistants lose their thinking (kept over-stripping: tool-call turns of the last turn too)."""
        return self.strip_thinking_from_history and message["role"] == "assistant" and not ctx.is_last

    def _format_tool_calls_text(self, message: Message, idx: int) -> str:
        calls = []
        for j, tc in enumerate(tool_calls_of(message, idx)):
            payload = {"name": tc.function.name, "arguments": tool_call_arguments(tc, where=f"tool_calls[{j}]")}
            calls.append(f"<tool_call>\n{json.dumps(payload)}\n</tool_call>")
        return "\n" + "\n".join(calls)

    def _tool_response_continuation_header(self) -> str:
        return "\n"

    _tool_response_closing = "\n</tool_response>"

    def _generation_suffix_in_header(self, message: Message, ctx: RenderContext) -> str:
        """How much of this message's header the generation prompt already wrote (usually nothing)."""
        return ""

    # ---- rendering -------------------------------------------------------------------------------

    def _parts(self, message: Message, ctx: RenderContext) -> list[dict[str, Any]]:
        content = message["content"]
        if isinstance(content, str):
            return [{"type": "text", "text": content}]
        strip = self._strips_thinking_for(message, ctx)
        parts: list[dict[str, Any]] = []
        for j, p in enumerate(content):
            if p["type"] == "text":
                parts.append({"type": "text", "text": p["text"]})
            elif p["type"] == "thinking":
                if not strip:
                    parts.append({"type": "text", "text": self._format_thinking_text(p["thinking"])})
            elif p["type"] == "image":
                if self.image_processor is None:
                    raise RendererError(
                        "image_processor is required to render image content "
                        "(get_renderer(name, tokenizer, image_processor=...))",
                        field=f"messages[{ctx.idx}].content[{j}]",
                    )
                parts.append({"type": "image", "image": p["image"]})
            else:
                raise RendererError(
                    f"{p['type']} parts are not supported by {type(self).__name__}",
                    field=f"messages[{ctx.idx}].content[{j}]",
                )
        return self._wrap_image_parts(parts)

    def _wrap_image_parts(self, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each image between ``<|vision_start|>`` and ``<|vision_end|>`` (Nemotron overrides this)."""
        if not any(p["type"] == "image" for p in parts):
            return parts
        out: list[dict[str, Any]] = []
        for p in parts:
            if p["type"] == "image":
                out += [{"type": "text", "text": "<|vision_start|>"}, p, {"type": "text", "text": "<|vision_end|>"}]
            else:
                out.append(p)
        return out

    def _encode_part(self, part: dict[str, Any]) -> ModelInputChunk:
        if part["type"] == "image":
            return image_to_chunk(part["image"], self.image_processor)
        return chunk(encode(self.tokenizer, part["text"]))

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        newline = "\n" if ctx.idx > 0 else ""
        role = "user" if message["role"] == "tool" else message["role"]
        grouping = self.groups_consecutive_tool_responses
        is_tool = message["role"] == "tool"
        prev_is_tool = grouping and ctx.prev_message is not None and ctx.prev_message["role"] == "tool"
        next_is_tool = grouping and ctx.next_message is not None and ctx.next_message["role"] == "tool"
        if is_tool and prev_is_tool:
            header = self._tool_response_continuation_header()
        else:
            header = f"{newline}<|im_start|>{role}\n"
            if message["role"] == "assistant":
                header += self._assistant_header_suffix(message, ctx)
        parts = self._parts(message, ctx)
        if is_tool:
            opening = {"type": "text", "text": "<tool_response>\n"}
            parts = [opening, *parts, {"type": "text", "text": self._tool_response_closing}]
        if "tool_calls" in message:
            parts.append({"type": "text", "text": self._format_tool_calls_text(message, ctx.idx)})
        if not (is_tool and next_is_tool):
            parts.append({"type": "text", "text": "<|im_end|>"})
        if self.merge_text_chunks:
            parts = _merge_text_parts(parts)
        output = [self._encode_part(p) for p in parts]
        observed = self._generation_suffix_in_header(message, ctx)
        if observed and header.startswith(observed):
            rest = header[len(observed) :]
            if rest:
                output.insert(0, chunk(encode(self.tokenizer, rest)))
            header = observed
        return RenderedMessage(header=chunk(encode(self.tokenizer, header)), output=output)


class Qwen3VLInstructRenderer(Qwen3VLRenderer):
    """Qwen3-VL Instruct: no ``<think>`` framing when parsing."""

    frames_thinking = False
