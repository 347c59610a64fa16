"""DeepSeek V3.1: non-thinking (``deepseekv3``, ``deepseekv3_disable_thinking``) and thinking modes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tinkerlite.renderers.base import EndTokenRenderer
from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, Role, ensure_text, has_thinking
from tinkerlite.renderers.encoding import chunk, encode, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.parsing import detect_unterminated_tool_block, parse_think_blocks
from tinkerlite.renderers.tool_calls import (
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    attach_tool_calls,
    tool_call_from_text,
    tool_calls_of,
)
from tinkerlite.types import ModelInput

_BAR = "\uff5c"  # the full-width bar in DeepSeek's control tokens
_CALLS_BEGIN = "<｜tool▁calls▁begin｜>"
_CALLS_END = "<｜tool▁calls▁end｜>"
_CALL_BEGIN = "<｜tool▁call▁begin｜>"
_CALL_END = "<｜tool▁call▁end｜>"
_TOOL_SEP = "<｜tool▁sep｜>"
_OUTPUT_BEGIN = "<｜tool▁output▁begin｜>"
_OUTPUT_END = "<｜tool▁output▁end｜>"

_CALLS_RE = re.compile(re.escape(_CALLS_BEGIN) + r"(.*?)" + re.escape(_CALLS_END), re.DOTALL)
_CALL_RE = re.compile(
    re.escape(_CALL_BEGIN) + r"(\w+)" + re.escape(_TOOL_SEP) + r"(.*?)" + re.escape(_CALL_END), re.DOTALL
)
_CALLS_STRIP_RE = re.compile(r"\s*" + re.escape(_CALLS_BEGIN) + r".*?" + re.escape(_CALLS_END), re.DOTALL)
_INLINE_THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)

_TOOLS_FOOTER = (
    "\n\nIMPORTANT: ALWAYS adhere to this exact format for tool use:\n"
    f"{_CALLS_BEGIN}{_CALL_BEGIN}tool_call_name{_TOOL_SEP}tool_call_arguments{_CALL_END}{_CALLS_END}\n\n"
    "Where:\n"
    "- `tool_call_name` must be an exact match to one of the available tools\n"
    "- `tool_call_arguments` must be valid JSON that strictly follows the tool's Parameters Schema\n"
    "- For multiple tool calls, chain them directly without separators or spaces"
)


def _follows_tool(ctx: RenderContext) -> bool:
    """DeepSeek writes no ``<｜Assistant｜>`` header for the assistant message right after a tool result."""
    return ctx.prev_message is not None and ctx.prev_message["role"] == "tool"


class _DeepSeekV3BaseRenderer(EndTokenRenderer):
    """Shared DeepSeek V3.1 layout: BOS, raw system prompt, ``<｜User｜>``/``<｜Assistant｜>`` role tokens.

    No separators between messages. An assistant right after a tool result has no header. A system
    message anywhere but first is refused unless ``system_role_as_user=True``.
    """

    allowed_roles = frozenset({"system", "user", "assistant", "tool"})
    text_only_roles = frozenset({"system", "user", "tool"})

    def __init__(
        self, tokenizer: Any, system_role_as_user: bool = False, strip_thinking_from_history: bool = True
    ) -> None:
        super().__init__(tokenizer)
        self.system_role_as_user = system_role_as_user
        self.strip_thinking_from_history = strip_thinking_from_history

    @property
    def has_extension_property(self) -> bool:
        return not self.strip_thinking_from_history

    def _special(self, name: str) -> int:
        return single_token(self.tokenizer, f"<{_BAR}{name}{_BAR}>")

    @property
    def _bos_tokens(self) -> list[int]:
        return [self._special("begin▁of▁sentence")]

    @property
    def _end_message_token(self) -> int:
        return self._special("end▁of▁sentence")

    def _validate_family(self, message: Message, idx: int, messages: Sequence[Message]) -> None:
        if message["role"] == "system" and idx > 0 and not self.system_role_as_user:
            raise RendererError(
                "DeepSeek only supports a system message at the start; pass system_role_as_user=True to "
                "render later system messages as user messages",
                field=f"messages[{idx}].role",
            )

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = message["role"]
        content = message["content"]
        follows_tool = _follows_tool(ctx)
        header: list[int] = []
        if role == "system":
            if ctx.idx > 0:
                if not self.system_role_as_user:
                    raise RendererError(
                        "DeepSeek only supports a system message at the start", field=f"messages[{ctx.idx}].role"
                    )
                header = [self._special("User")]
            body = ensure_text(content)
        elif role == "user":
            header = [self._special("User")]
            body = ensure_text(content)
        elif role == "assistant":
            calls_present = bool(message.get("tool_calls"))
            strip = self.strip_thinking_from_history and not calls_present and not ctx.is_last
            if isinstance(content, list):
                pieces = []
                for p in content:
                    if p["type"] == "thinking" and not strip:
                        pieces.append(f"<think>{p['thinking']}</think>")
                    elif p["type"] == "text":
                        pieces.append(p["text"])
                body = "".join(pieces)
            else:
                body = content
            if not follows_tool:
                header = [self._special("Assistant")]
        elif role == "tool":
            header = encode(self.tokenizer, _OUTPUT_BEGIN)
            body = ensure_text(content) + _OUTPUT_END
        else:
            raise RendererError(f"Unsupported role: {role}", field=f"messages[{ctx.idx}].role")
        calls = tool_calls_of(message, ctx.idx)
        if calls:
            body += _CALLS_BEGIN
            for tc in calls:
                body += f"{_CALL_BEGIN}{tc.function.name}{_TOOL_SEP}{tc.function.arguments}{_CALL_END}"
            body += _CALLS_END
        output = encode(self.tokenizer, body)
        if role == "assistant" and message["content"]:
            output.append(self._end_message_token)
        return RenderedMessage(header=chunk(header) if header else None, output=[chunk(output)])

    def _parse_content(self, message: Message, content: str) -> None:
        results: list[ToolCall | UnparsedToolCall] = []
        section = _CALLS_RE.search(content)
        if section:
            for m in _CALL_RE.finditer(section.group(1)):
                results.append(tool_call_from_text(m.group(1), m.group(2).strip(), m.group(0)))
        for open_marker, close_marker in ((_CALLS_BEGIN, _CALLS_END), (_CALL_BEGIN, _CALL_END)):
            dangling = detect_unterminated_tool_block(content, open_marker, close_marker)
            if dangling is not None:
                results.append(dangling)
                break
        attach_tool_calls(message, results)
        if results:
            content = _CALLS_STRIP_RE.sub("", content).strip()
        parts = parse_think_blocks(content)
        message["content"] = parts if parts is not None else content

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """The system prompt followed by a ``## Tools`` section with one ``### name`` block per tool."""
        tools_text = ""
        if tools:
            blocks = [
                f"### {t['name']}\nDescription: {t['description']}\n\nParameters: {json.dumps(t['parameters'])}"
                for t in tools
            ]
            tools_text = "\n\n## Tools\nYou have access to the following tools:\n\n" + "\n".join(blocks)
            tools_text += _TOOLS_FOOTER
        return [Message(role="system", content=system_prompt + tools_text)]


class DeepSeekV3ThinkingRenderer(_DeepSeekV3BaseRenderer):
    """Thinking mode: the prompt is prefilled with ``<think>`` (not after a tool result).

    History assistants get ``</think>`` at the end of their header and lose their reasoning; the last
    one keeps ``<think>..</think>``, or gets ``<think></think>`` when it has none.
    """

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        rendered = super().render_message(message, ctx)
        follows_tool = _follows_tool(ctx)
        assistant_turn = message["role"] == "assistant" and not follows_tool
        if assistant_turn and self.strip_thinking_from_history and not ctx.is_last:
            old = list(rendered.header.tokens) if rendered.header else []
            return RenderedMessage(header=chunk(old + encode(self.tokenizer, "</think>")), output=rendered.output)
        content = message.get("content", "")
        if assistant_turn and ctx.is_last and content and not has_thinking(content):
            first, *rest = rendered.output
            empty_block = encode(self.tokenizer, "<think></think>")
            first_tokens = list(getattr(first, "tokens", []))  # DeepSeek V3 is text-only: always a text chunk
            return RenderedMessage(header=rendered.header, output=[chunk(empty_block + first_tokens), *rest])
        return rendered

    def _generation_prompt(self, messages: list[Message], role: Role, prefill: str | None) -> ModelInput:
        if messages and messages[-1]["role"] == "tool":
            return super()._generation_prompt(messages, role, prefill)
        return super()._generation_prompt(messages, role, "<think>" + (prefill or ""))

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        """Put back the prefilled ``<think>`` when the sample contains its ``</think>``."""
        open_id = self.tokenizer.token_to_id("<think>")
        close_id = self.tokenizer.token_to_id("</think>")
        if open_id is None or close_id is None:
            return response
        if (not response or response[0] != open_id) and close_id in response:
            return [open_id, *response]
        return response


class DeepSeekV3DisableThinkingRenderer(_DeepSeekV3BaseRenderer):
    """Non-thinking mode: assistant headers end with ``</think>`` and reasoning is not rendered.

    Reasoning on the *last* assistant message is dropped, as the cookbook does (one warning; ``strict``
    refuses it); history reasoning is stripped, as the HF template does.
    """

    refuses_produced_reasoning = True

    @property
    def has_extension_property(self) -> bool:
        return True

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        follows_tool = _follows_tool(ctx)
        assistant_turn = message["role"] == "assistant" and not follows_tool
        if assistant_turn:
            content = message["content"]
            if isinstance(content, list):
                text = "".join(p["text"] for p in content if p["type"] == "text")
            else:
                text = _INLINE_THINK_RE.sub("", content)
            message = Message(**{**message, "content": text})
        rendered = super().render_message(message, ctx)
        if assistant_turn:
            old = list(rendered.header.tokens) if rendered.header else []
            rendered = RenderedMessage(header=chunk(old + encode(self.tokenizer, "</think>")), output=rendered.output)
        return rendered
