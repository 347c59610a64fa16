"""GLM-5.3: ``[gMASK]<sop><|system|>Reasoning Effort: X``, role tokens that also end the previous turn.

From the GLM-5.3 HF template: there is no end-of-message token; an assistant turn ends with the next role
token (``<|user|>``, or ``<|observation|>`` after tool calls), which is therefore that assistant message's
own (trained) output, the following message dropping it from its header; the last assistant message gets
it as ``stop_overlap``. Every assistant message starts ``<think>...</think>`` (the ``<think>`` prefill is
in the zero-weight header), thinking is kept in history by default (``clear_thinking=False``), visible
text is stripped, tool calls are ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>``,
consecutive tool results share one ``<|observation|>`` and are sorted into call order when ids allow.
Thinking cannot be turned off: low effort is the lightest mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from tinkerlite.renderers.base import Renderer
from tinkerlite.renderers.content import Content, Message, RenderContext, RenderedMessage, Role, openai_message
from tinkerlite.renderers.encoding import chunk, encode, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.parsing import ParseTermination, parse_content_blocks
from tinkerlite.renderers.streaming import MessageDelta, ReasoningStreamingParser
from tinkerlite.renderers.tool_calls import (
    FunctionBody,
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    tool_call_arguments,
    tool_calls_of,
)
from tinkerlite.types import EncodedTextChunk

__all__ = ["Glm5_3HighReasoningRenderer", "Glm5_3LowReasoningRenderer", "Glm5_3Renderer"]

_TOOL_CALL_RE = re.compile(r"^\s*<tool_call>\s*(?P<name>[\w\-\.]+)\s*(?P<body>.*?)\s*</tool_call>\s*$", re.DOTALL)
_ARG_PAIR_RE = re.compile(r"<arg_key>(?P<key>.*?)</arg_key>\s*<arg_value>(?P<value>.*?)</arg_value>", re.DOTALL)
_THINK_PREFILL = "<think>"
_TOOLS_SYSTEM_TEMPLATE = (
    "\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tool_lines}</tools>\n\n"
    "For each function call, output the function name and arguments within the following XML format:\n"
    "<tool_call>{{function-name}}<arg_key>{{arg-key-1}}</arg_key><arg_value>{{arg-value-1}}</arg_value>"
    "<arg_key>{{arg-key-2}}</arg_key><arg_value>{{arg-value-2}}</arg_value>...</tool_call>"
)


def _format_tool_call(tc: ToolCall, where: str) -> str:
    args = tool_call_arguments(tc, where=where) if tc.function.arguments else {}
    if not isinstance(args, dict):  # the template iterates over the arguments' items
        raise RendererError("tool call arguments must be a JSON object", field=f"{where}.arguments")
    pairs = "".join(
        f"<arg_key>{k}</arg_key><arg_value>{v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}</arg_value>"
        for k, v in args.items()
    )
    return f"<tool_call>{tc.function.name}{pairs}</tool_call>"


def parse_glm_tool_call(raw_text: str) -> ToolCall | UnparsedToolCall:
    """A ``<tool_call>NAME<arg_key>..</arg_key><arg_value>..</arg_value>...</tool_call>`` block.

    Values that parse as JSON are decoded (as the template writes non-strings), others kept as strings.
    """
    match = _TOOL_CALL_RE.match(raw_text)
    if not match:
        return UnparsedToolCall(raw_text=raw_text, error="Malformed GLM tool call")
    body = match.group("body")
    arguments: dict[str, object] = {}
    pos = 0
    for pair in _ARG_PAIR_RE.finditer(body):
        if body[pos : pair.start()].strip():
            return UnparsedToolCall(raw_text=raw_text, error="Unexpected content between tool call arguments")
        key = pair.group("key").strip()
        if not key:
            return UnparsedToolCall(raw_text=raw_text, error="Empty tool call argument key")
        try:
            arguments[key] = json.loads(pair.group("value"))
        except json.JSONDecodeError:
            arguments[key] = pair.group("value")
        pos = pair.end()
    if body[pos:].strip():
        return UnparsedToolCall(raw_text=raw_text, error="Unexpected trailing content inside tool call")
    return ToolCall(function=FunctionBody(name=match.group("name"), arguments=json.dumps(arguments)))


def _sort_tool_block(block: list[Message], prev: Message | None) -> list[Message]:
    """Tool results in the preceding call order, only when every id is present, unique and known."""
    if prev is None or prev["role"] != "assistant":
        return block
    calls = tool_calls_of(prev)
    if not calls:
        return block
    call_ids = [tc.id for tc in calls]
    if any(not c for c in call_ids) or len(set(call_ids)) != len(call_ids):
        return block
    response_ids = [m.get("tool_call_id") for m in block]
    if any(not r for r in response_ids) or len(set(response_ids)) != len(response_ids):
        return block
    if not set(response_ids) <= set(call_ids):
        return block
    by_id = dict(zip(response_ids, block, strict=True))
    return [by_id[c] for c in call_ids if c in by_id]


def _reorder_tool_results(messages: Sequence[Message]) -> list[Message]:
    result: list[Message] = []
    idx = 0
    while idx < len(messages):
        if messages[idx]["role"] != "tool":
            result.append(messages[idx])
            idx += 1
            continue
        end = idx
        while end + 1 < len(messages) and messages[end + 1]["role"] == "tool":
            end += 1
        result.extend(_sort_tool_block(list(messages[idx : end + 1]), messages[idx - 1] if idx > 0 else None))
        idx = end + 1
    return result


class Glm5_3Renderer(Renderer):
    """GLM-5.3 at max reasoning effort (the template's default)."""

    supports_streaming = True
    reasoning_effort: str = "Max"
    allowed_roles = frozenset({"system", "user", "assistant", "tool"})
    text_only_roles = frozenset()  # checked while rendering

    def __init__(self, tokenizer: Any, strip_thinking_from_history: bool = False) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history
        self._system_token = single_token(tokenizer, "<|system|>")
        self._user_token = single_token(tokenizer, "<|user|>")
        self._assistant_token = single_token(tokenizer, "<|assistant|>")
        self._observation_token = single_token(tokenizer, "<|observation|>")
        self._endoftext_token = single_token(tokenizer, "<|endoftext|>")
        self._think_open_token = single_token(tokenizer, "<think>")
        self._think_close_token = single_token(tokenizer, "</think>")

    @property
    def has_extension_property(self) -> bool:
        return not self.strip_thinking_from_history

    @property
    def _bos_tokens(self) -> list[int]:
        return encode(self.tokenizer, f"[gMASK]<sop><|system|>Reasoning Effort: {self.reasoning_effort}")

    @property
    def _stop_token_ids(self) -> tuple[int, int, int]:
        return (self._user_token, self._observation_token, self._endoftext_token)

    def get_stop_sequences(self) -> list[int]:
        return list(self._stop_token_ids)

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        return _reorder_tool_results(messages)

    @staticmethod
    def _visible_text(content: Content, idx: int) -> str:
        if isinstance(content, str):
            return content
        for j, part in enumerate(content):
            if part["type"] != "text":
                raise RendererError(
                    f"GLM-5.3 renderer does not support {part['type']!r} content parts here",
                    field=f"messages[{idx}].content[{j}]",
                )
        return "".join(p["text"] for p in content if p["type"] == "text")

    @staticmethod
    def _split_reasoning(message: Message, idx: int) -> tuple[str | None, str]:
        content = message["content"]
        if isinstance(content, list):
            reasoning, text = [], []
            for j, part in enumerate(content):
                if part["type"] == "thinking":
                    reasoning.append(part["thinking"])
                elif part["type"] == "text":
                    text.append(part["text"])
                else:
                    raise RendererError(
                        f"GLM-5.3 renderer does not support {part['type']!r} content parts",
                        field=f"messages[{idx}].content[{j}]",
                    )
            return ("".join(reasoning) if reasoning else None), "".join(text)
        if "</think>" in content:
            return content.split("</think>")[0].split("<think>")[-1], content.split("</think>")[-1]
        return None, content

    def _turn_terminator(self, message: Message, next_message: Message | None) -> int | None:
        """The token ending this assistant turn, when the next message's role token is that token."""
        expected = self._observation_token if message.get("tool_calls") else self._user_token
        if next_message is None:
            return expected
        next_header = {"user": self._user_token, "tool": self._observation_token}.get(next_message["role"])
        return expected if next_header == expected else None

    def _header_written_by_previous_turn(self, ctx: RenderContext, message: Message) -> bool:
        prev = ctx.prev_message
        return prev is not None and prev["role"] == "assistant" and self._turn_terminator(prev, message) is not None

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = message["role"]
        stop_overlap: EncodedTextChunk | None = None
        trailing: list[int] = []
        if role == "system":
            header = [self._system_token]
            body = self._visible_text(message["content"], ctx.idx)
        elif role == "user":
            header = [] if self._header_written_by_previous_turn(ctx, message) else [self._user_token]
            body = self._visible_text(message["content"], ctx.idx)
        elif role == "assistant":
            reasoning, text = self._split_reasoning(message, ctx.idx)
            keep = not self.strip_thinking_from_history or ctx.idx > ctx.last_user_index
            body = (
                f"<think>{reasoning}</think>" if keep and reasoning is not None else "<think></think>"
            ) + text.strip()
            calls = tool_calls_of(message, ctx.idx)
            if message.get("tool_calls"):
                body += "".join(
                    _format_tool_call(tc, f"messages[{ctx.idx}].tool_calls[{j}]") for j, tc in enumerate(calls)
                )
            header = [self._assistant_token]
            if body.startswith(_THINK_PREFILL):  # sampling always supplies it: observed, never trained
                header += encode(self.tokenizer, _THINK_PREFILL)
                body = body[len(_THINK_PREFILL) :]
            terminator = self._turn_terminator(message, ctx.next_message)
            if ctx.is_last:
                stop_overlap = chunk([terminator]) if terminator is not None else None
            elif terminator is not None:
                trailing = [terminator]
        elif role == "tool":
            follows_tool = ctx.prev_message is not None and ctx.prev_message["role"] == "tool"
            shared = follows_tool or self._header_written_by_previous_turn(ctx, message)
            header = [] if shared else [self._observation_token]
            body = "<tool_response>" + self._visible_text(message["content"], ctx.idx) + "</tool_response>"
        else:
            raise RendererError(f"Unsupported role: {role}", field=f"messages[{ctx.idx}].role")
        output = [*encode(self.tokenizer, body), *trailing]
        return RenderedMessage(
            header=chunk(header) if header else None,
            output=[chunk(output)] if output else [],
            stop_overlap=stop_overlap,
        )

    def _get_generation_suffix(self, role: Role, ctx: RenderContext) -> list[int]:
        tokens = {
            "system": self._system_token,
            "user": self._user_token,
            "assistant": self._assistant_token,
            "tool": self._observation_token,
        }
        if role not in tokens:
            raise RendererError(f"Unsupported generation role: {role}", field="role")
        return [tokens[role], *(encode(self.tokenizer, _THINK_PREFILL) if role == "assistant" else [])]

    # ---- parsing ---------------------------------------------------------------------------------

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        if response and response[0] != self._think_open_token and self._think_close_token in response:
            return [self._think_open_token, *response]
        return response

    def _parse_content(self, response: list[int], *, allow_missing_stop: bool) -> tuple[Message, ParseTermination]:
        stops = [i for i, t in enumerate(response) if t in self._stop_token_ids]
        if not stops:
            content = str(self.tokenizer.decode(response))
            termination = ParseTermination.MALFORMED
            if not allow_missing_stop:
                return Message(role="assistant", content=content), termination
        elif len(stops) == 1:
            content = str(self.tokenizer.decode(response[: stops[0]]))
            end = response[stops[0]]
            termination = ParseTermination.EOS if end == self._endoftext_token else ParseTermination.STOP_SEQUENCE
        else:
            raise RendererError(
                f"When parsing response, expected to split into 1 or 2 pieces using stop tokens, but got "
                f"{len(stops)}. You probably are using the wrong stop tokens when sampling"
            )
        message = Message(role="assistant", content=content)
        blocks = parse_content_blocks(content)
        if blocks is not None:
            parts, results = blocks
            message["content"] = parts
            calls = [r for r in results if isinstance(r, ToolCall)]
            unparsed: list[UnparsedToolCall] = []
            for r in results:
                if isinstance(r, UnparsedToolCall):  # GLM's calls are not JSON: read them again
                    parsed = parse_glm_tool_call(r.raw_text)
                    (calls if isinstance(parsed, ToolCall) else unparsed).append(parsed)  # type: ignore[arg-type]
            if calls:
                message["tool_calls"] = calls
            if unparsed:
                message["unparsed_tool_calls"] = unparsed
        return message, termination

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        """STOP_SEQUENCE on ``<|user|>``/``<|observation|>``, EOS on ``<|endoftext|>``, else MALFORMED."""
        return self._parse_content(self._normalize_response_tokens(response), allow_missing_stop=False)

    def _parse_response_for_streaming(self, response: list[int]) -> tuple[Message, ParseTermination]:
        return self._parse_content(response, allow_missing_stop=True)

    def parse_response_streaming(self, response: list[int]) -> Iterator[MessageDelta]:
        """As the base, with whichever of the three stop tokens the response ends on."""
        response = self._normalize_response_tokens(response)
        end = next((t for t in response if t in self._stop_token_ids), self._user_token)
        parser = ReasoningStreamingParser(self.tokenizer, end, self._parse_response_for_streaming)
        for token in response:
            yield from parser.feed(token)
        yield from parser.finish()

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        """Reasoning as ``reasoning_content``, arguments as a mapping (the template iterates over them)."""
        result = openai_message(message, reasoning_field=True)
        for tc in result.get("tool_calls", []):
            args = tc["function"]["arguments"]
            tc["function"]["arguments"] = json.loads(args) if args else {}
        return result

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """A tools ``<|system|>`` segment first (``defer_loading`` tools skipped), then the system prompt."""
        out: list[Message] = []
        if tools:
            included = [t for t in (dict(tool) for tool in tools) if not t.get("defer_loading")]
            lines = "".join(
                json.dumps({k: v for k, v in t.items() if k not in ("defer_loading", "strict")}, ensure_ascii=False)
                + "\n"
                for t in included
            )
            out.append(Message(role="system", content=_TOOLS_SYSTEM_TEMPLATE.format(tool_lines=lines)))
        if system_prompt:
            out.append(Message(role="system", content=system_prompt))
        return out


class Glm5_3HighReasoningRenderer(Glm5_3Renderer):
    """GLM-5.3 at high reasoning effort."""

    reasoning_effort = "High"


class Glm5_3LowReasoningRenderer(Glm5_3Renderer):
    """GLM-5.3 at low reasoning effort (the closest it has to thinking off)."""

    reasoning_effort = "Low"
