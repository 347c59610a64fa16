"""Kimi K2 (Thinking): ``<|im_*|>`` role tokens, ``<think>`` blocks and ``<|tool_calls_section_*|>`` calls."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

from tinkerlite.renderers.base import EndTokenRenderer
from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, ensure_text, split_thinking_and_text
from tinkerlite.renderers.encoding import chunk, encode, encode_memo, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.parsing import detect_unterminated_tool_block, parse_think_blocks
from tinkerlite.renderers.supervised import TrainOnWhat
from tinkerlite.renderers.tool_calls import (
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    attach_tool_calls,
    tool_call_from_text,
    tool_calls_of,
)
from tinkerlite.types import ModelInput, ModelInputChunk, TensorData

_SECTION_RE = re.compile(
    r"<\|tool_calls_section_begin\|>(.*?)<\|tool_calls_section_end\|>"
    r"|<\|tool_call_section_begin\|>(.*?)<\|tool_call_section_end\|>",
    re.DOTALL,
)
_CALL_RE = re.compile(
    r"<\|tool_call_begin\|>\s*([^<]+:\d+)\s*<\|tool_call_argument_begin\|>\s*(.*?)\s*<\|tool_call_end\|>",
    re.DOTALL,
)
_DANGLING_MARKERS = (
    ("<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"),
    ("<|tool_call_section_begin|>", "<|tool_call_section_end|>"),
    ("<|tool_call_begin|>", "<|tool_call_end|>"),
)


def _tool_name_from_id(tool_id: str) -> str:
    """``functions.get_weather:0`` -> ``get_weather``."""
    name = tool_id.split(":", 1)[0]
    return name.split(".", 1)[1] if "." in name else name


class KimiK2Renderer(EndTokenRenderer):
    """``<|im_user|>user<|im_middle|>{text}<|im_end|>`` etc., no separators, no BOS.

    A default system prompt is inserted when there is none (after a leading ``tool_declare``). Assistant
    messages in the produced turn (everything after the last assistant message without tool calls)
    keep ``<think>{reasoning}</think>``; history ones get ``<think></think>``. Strings are encoded with
    special-token strings matched, as Kimi's tiktoken tokenizer does.
    """

    allowed_roles = frozenset({"system", "user", "assistant", "tool", "tool_declare"})
    text_only_roles: frozenset[str] | None = frozenset()  # checked in render_message instead
    DEFAULT_SYSTEM_PROMPT = "You are Kimi, an AI assistant created by Moonshot AI."

    def __init__(self, tokenizer: Any, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history

    def _encode(self, text: str) -> list[int]:
        return encode(self.tokenizer, text)

    @property
    def _end_message_token(self) -> int:
        return single_token(self.tokenizer, "<|im_end|>")

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        default = Message(role="system", content=self.DEFAULT_SYSTEM_PROMPT)
        if not messages:
            return [default]
        if messages[0]["role"] == "tool_declare":
            if len(messages) >= 2 and messages[1]["role"] == "system":
                return messages
            return [messages[0], default, *messages[1:]]
        if messages[0]["role"] != "system":
            return [default, *messages]
        return messages

    def _last_assistant_turn_start_index(self, messages: Any) -> int:
        """After the last assistant message that did not call a tool (Kimi keeps reasoning from there on)."""
        for idx in range(len(messages) - 1, -1, -1):
            if messages[idx]["role"] == "assistant" and not messages[idx].get("tool_calls"):
                return idx + 1
        return 0

    def _header(self, message: Message) -> str:
        role = message["role"]
        if role == "user":
            return "<|im_user|>user<|im_middle|>"
        if role == "assistant":
            return "<|im_assistant|>assistant<|im_middle|>"
        if role != "tool":
            return f"<|im_system|>{role}<|im_middle|>"
        name = message.get("name")
        if not name:
            warnings.warn("Kimi K2 tool message without 'name': rendered as 'tool'", UserWarning, stacklevel=4)
            name = "tool"
        call_id = message.get("tool_call_id", "")
        if not call_id:
            warnings.warn(
                "Kimi K2 tool message without 'tool_call_id': the result cannot be tied to its call",
                UserWarning,
                stacklevel=4,
            )
        return f"<|im_system|>{name}<|im_middle|>## Return of {call_id}\n"

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        content = message["content"]
        if message["role"] == "assistant":
            thinking, text = split_thinking_and_text(content)
            keep = ctx.in_last_assistant_turn or not self.strip_thinking_from_history
            body = f"<think>{thinking}</think>" if keep and thinking else "<think></think>"
            body += text
            calls = tool_calls_of(message, ctx.idx)
            if calls:
                body += "<|tool_calls_section_begin|>"
                for i, tc in enumerate(calls):
                    call_id = tc.id or f"functions.{tc.function.name}:{i}"
                    body += (
                        f"<|tool_call_begin|>{call_id}<|tool_call_argument_begin|>{tc.function.arguments}"
                        "<|tool_call_end|>"
                    )
                body += "<|tool_calls_section_end|>"
            body += "<|im_end|>"
        elif isinstance(content, str) or (len(content) == 1 and content[0]["type"] == "text"):
            body = ensure_text(content) + "<|im_end|>"
        else:
            output = self._encode_multipart_content([*content, {"type": "text", "text": "<|im_end|>"}], ctx.idx)
            return RenderedMessage(header=chunk(self._encode(self._header(message))), output=output)
        return RenderedMessage(header=chunk(self._encode(self._header(message))), output=[chunk(self._encode(body))])

    multipart_content = False
    """Whether non-assistant messages may have several content parts (K2.5 encodes each as a segment)."""

    def _validate_family(self, message: Message, idx: int, messages: Any) -> None:
        content = message["content"]
        if self.multipart_content or message["role"] == "assistant" or isinstance(content, str):
            return
        if not (len(content) == 1 and content[0]["type"] == "text"):
            raise RendererError(
                f"{type(self).__name__} renders non-assistant messages from text only (a string or one text "
                f"part); got {len(content)} parts",
                field=f"messages[{idx}].content",
            )

    def _encode_multipart_content(self, content: list[Any], idx: int) -> list[ModelInputChunk]:
        """One segment per text part (only reached when ``multipart_content``)."""
        return [chunk(self._encode(p["text"])) for p in content]

    def build_supervised_examples(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_TURN
    ) -> list[tuple[ModelInput, TensorData]]:
        """One example per user turn (the template strips reasoning from earlier turns)."""
        with encode_memo(self.tokenizer):
            return self._per_user_turn_examples(messages, TrainOnWhat(train_on_what))

    def _per_user_turn_examples(
        self, messages: list[Message], train_on_what: TrainOnWhat
    ) -> list[tuple[ModelInput, TensorData]]:
        if train_on_what in (TrainOnWhat.LAST_ASSISTANT_MESSAGE, TrainOnWhat.LAST_ASSISTANT_TURN):
            return [self.build_supervised_example(messages, train_on_what)]
        if train_on_what is not TrainOnWhat.ALL_ASSISTANT_MESSAGES:
            warnings.warn(
                f"train_on_what={train_on_what.value} with a renderer without the extension property: the same "
                "mode is applied to every user turn",
                UserWarning,
                stacklevel=3,
            )
        per_turn: TrainOnWhat = train_on_what
        if train_on_what is TrainOnWhat.ALL_ASSISTANT_MESSAGES:
            per_turn = TrainOnWhat.LAST_ASSISTANT_TURN
        user_idxs = [i for i, m in enumerate(messages) if m["role"] == "user"]
        return [self.build_supervised_example(messages[:end], per_turn) for end in [*user_idxs[1:], len(messages)]]

    def _parse_content(self, message: Message, content: str) -> None:
        text = content
        section = _SECTION_RE.search(content)
        if section:
            text = content[: section.start()]
            body = section.group(1) if section.group(1) is not None else section.group(2)
            results: list[ToolCall | UnparsedToolCall] = []
            for m in _CALL_RE.finditer(body):
                tool_id, args = m.group(1).strip(), m.group(2).strip()
                results.append(tool_call_from_text(_tool_name_from_id(tool_id), args, m.group(0), tool_id or None))
            attach_tool_calls(message, results)
        for open_marker, close_marker in _DANGLING_MARKERS:
            dangling = detect_unterminated_tool_block(content, open_marker, close_marker)
            if dangling is not None:
                attach_tool_calls(message, [dangling])
                break
        parts = parse_think_blocks(text)
        message["content"] = parts if parts is not None else text

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """A ``tool_declare`` message (compact JSON, sorted keys) before the system message."""
        out: list[Message] = []
        if tools:
            payload = [{"type": "function", "function": tool} for tool in tools]
            out.append(Message(role="tool_declare", content=json.dumps(payload, separators=(",", ":"), sort_keys=True)))
        out.append(Message(role="system", content=system_prompt or self.DEFAULT_SYSTEM_PROMPT))
        return out
