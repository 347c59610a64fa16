"""DeepSeek V4.1: ``<｜System｜>`` with a reasoning-effort line, DSML tool calls, tool results in user turns.

From the V4.1 chat template: in thinking mode every prompt opens ``<｜System｜>Reasoning Effort: N (...)``
(high 75, low 50, max 100; chat mode has no effort line and assistant headers end ``</think>``); tool
declarations follow the system text; tool calls are a ``<｜DSML｜ calls>`` block after the answer, one
``parameter`` per argument; tool results become ``<tool_result>...</tool_result>`` blocks of one user turn,
sorted into call order, consecutive tool/user messages joined by ``\\n\\n``; reasoning before the last
user turn is dropped unless tools are declared (``deepseekv4_1_preserve_thinking`` keeps it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from tinkerlite.renderers.base import Renderer
from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, Role, ensure_text, openai_message
from tinkerlite.renderers.encoding import chunk, encode, encode_memo, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.parsing import (
    ParseTermination,
    detect_unterminated_tool_block,
    parse_response_for_stop_token,
    parse_think_blocks,
)
from tinkerlite.renderers.supervised import TrainOnWhat
from tinkerlite.renderers.tool_calls import FunctionBody, ToolCall, ToolSpec, UnparsedToolCall, tool_calls_of
from tinkerlite.types import ModelInput, TensorData

__all__ = [
    "DeepSeekV4_1DisableThinkingRenderer",
    "DeepSeekV4_1LowReasoningRenderer",
    "DeepSeekV4_1MaxReasoningRenderer",
    "DeepSeekV4_1Renderer",
]

_EFFORT_TEMPLATE = "Reasoning Effort: {budget} (range 1-100, the higher the value, the more thorough the reasoning)\n\n"
_TOOLS_TEMPLATE = (
    "## Tools\n\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools by writing a "
    '"<｜DSML｜ calls>" block like the following:\n\n'
    "<｜DSML｜ calls>\n"
    '<｜DSML｜ invoke name="$TOOL_NAME">\n'
    '<｜DSML｜ parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE</｜DSML｜ parameter>\n'
    "...\n"
    "</｜DSML｜ invoke>\n"
    '<｜DSML｜ invoke name="$TOOL_NAME2">\n'
    "...\n"
    "</｜DSML｜ invoke>\n"
    "</｜DSML｜ calls>\n\n"
    'String parameters should be specified as is and set `string="true"`. For all other types (numbers, '
    'booleans, arrays, objects), pass the value in JSON format and set `string="false"`.\n\n'
    "If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside "
    "<think>...</think> BEFORE any tool calls or final response.\n\n"
    "Otherwise, output directly after </think> with tool calls or final response.\n\n"
    "### Available Tool Schemas\n\n"
    "{tool_schemas}\n\n"
    "You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n"
)
_CALLS_OPEN, _CALLS_CLOSE = "<｜DSML｜ calls>", "</｜DSML｜ calls>"
_CALLS_BLOCK_RE = re.compile(r"(?:\n\n)?<｜DSML｜ calls>.*?</｜DSML｜ calls>", re.DOTALL)
_INVOKE_RE = re.compile(r'<｜DSML｜ invoke name="(.*?)">\n(.*?)</｜DSML｜ invoke>', re.DOTALL)
_PARAM_RE = re.compile(r'<｜DSML｜ parameter name="(.*?)" string="(true|false)">(.*?)</｜DSML｜ parameter>', re.DOTALL)

# The last index whose reasoning is dropped, for the conversation being built (None outside a build).
_DROP_REASONING_THROUGH: ContextVar[int | None] = ContextVar("tinkerlite_deepseek_v4_1_drop_through", default=None)


def _arguments_dict(arguments: str) -> dict[str, object]:
    """Decoded arguments (double-encoded JSON tolerated); anything else is one ``arguments`` parameter."""
    parsed: object = arguments
    for _ in range(2):
        if isinstance(parsed, str):
            try:
                parsed = json.loads(parsed)
            except json.JSONDecodeError:
                break
    return parsed if isinstance(parsed, dict) else {"arguments": arguments}


def _render_tool_calls(calls: Sequence[ToolCall]) -> str:
    invokes = []
    for tc in calls:
        params = [
            f'<｜DSML｜ parameter name="{key}" string="{"true" if isinstance(value, str) else "false"}">'
            f"{value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}</｜DSML｜ parameter>"
            for key, value in _arguments_dict(tc.function.arguments).items()
        ]
        invokes.append(f'<｜DSML｜ invoke name="{tc.function.name}">\n' + "\n".join(params) + "\n</｜DSML｜ invoke>")
    return f"\n\n{_CALLS_OPEN}\n" + "\n".join(invokes) + f"\n{_CALLS_CLOSE}"


def _split_assistant(message: Message) -> tuple[str, str]:
    content = message["content"]
    if isinstance(content, str):
        return "", content
    reasoning, text = [], []
    for part in content:
        if part["type"] == "thinking":
            reasoning.append(part["thinking"])
        elif part["type"] == "text":
            text.append(part["text"])
        else:
            raise RendererError(f"DeepSeek V4.1 renderer does not support {part['type']!r} content parts")
    return "".join(reasoning), "".join(text)


def _is_user_turn(message: Message) -> bool:
    return message["role"] in ("user", "tool")


def _normalize(messages: Sequence[Message]) -> list[Message]:
    """The template's turns, keeping every index: tools folded into the system message, tool results
    sorted into call order, and each user turn's text carried (joined by ``\\n\\n``) by its first message."""
    result = list(messages)
    for idx, message in enumerate(result):
        if message["role"] != "tool_declare":
            continue
        specs = [tool["function"] for tool in json.loads(ensure_text(message["content"]))]
        tools_text = _TOOLS_TEMPLATE.format(tool_schemas="\n".join(json.dumps(s, ensure_ascii=False) for s in specs))
        if idx == 0:
            result[0] = {**message, "role": "system", "content": "\n\n" + tools_text}
        elif idx == 1 and result[0]["role"] == "system":
            result[0] = {**result[0], "content": f"{ensure_text(result[0]['content'])}\n\n{tools_text}"}
            result[1] = {**message, "content": ""}
        else:
            raise RendererError(
                "DeepSeek V4.1 tool declarations must come first or right after the first system message; "
                "use create_conversation_prefix_with_tools",
                field=f"messages[{idx}].role",
            )
    call_order: dict[str, int] = {}
    idx = 0
    while idx < len(result):
        calls = tool_calls_of(result[idx], idx)
        if calls:
            call_order = {tc.id: order for order, tc in enumerate(calls) if tc.id}
        if not _is_user_turn(result[idx]):
            idx += 1
            continue
        end = idx
        while end + 1 < len(result) and _is_user_turn(result[end + 1]):
            end += 1
        turn = result[idx : end + 1]
        tools = iter(
            sorted(
                (m for m in turn if m["role"] == "tool"), key=lambda m: call_order.get(m.get("tool_call_id") or "", 0)
            )
        )
        ordered = [next(tools) if m["role"] == "tool" else m for m in turn]
        blocks = [
            f"<tool_result>{ensure_text(m['content'])}</tool_result>"
            if m["role"] == "tool"
            else ensure_text(m["content"])
            for m in ordered
        ]
        result[idx] = {**result[idx], "content": "\n\n".join(blocks)}
        for rest in range(idx + 1, end + 1):
            result[rest] = {**result[rest], "content": ""}
        idx = end + 1
    return result


def _drop_reasoning_through(messages: Sequence[Message]) -> int:
    """The template's last user turn: user and tool messages, and later system messages."""
    return max((i for i, m in enumerate(messages) if _is_user_turn(m) or (m["role"] == "system" and i > 0)), default=-1)


class DeepSeekV4_1Renderer(Renderer):
    """DeepSeek V4.1, thinking mode, high effort (the template's defaults)."""

    reasoning_effort: int | None = 75
    """Reasoning effort budget (1-100), or None for chat mode."""
    supports_streaming = True
    allowed_roles = frozenset({"system", "user", "assistant", "tool", "tool_declare"})
    text_only_roles = frozenset({"system", "user", "tool", "tool_declare"})

    def __init__(self, tokenizer: Any, strip_thinking_from_history: bool = True) -> None:
        super().__init__(tokenizer)
        self.strip_thinking_from_history = strip_thinking_from_history

    @property
    def _thinking(self) -> bool:
        return self.reasoning_effort is not None

    @property
    def has_extension_property(self) -> bool:
        return not (self._thinking and self.strip_thinking_from_history)

    def _encode_after(self, prefix: str, text: str) -> tuple[list[int], list[int]]:
        """``prefix + text`` encoded as one string, split where the prefix ends (a merged token goes first)."""
        tokens = encode(self.tokenizer, prefix + text)
        split = 0
        while split < len(tokens) and len(self.tokenizer.decode(tokens[:split])) < len(prefix):
            split += 1
        return tokens[:split], tokens[split:]

    @property
    def _bos_tokens(self) -> list[int]:
        return encode(self.tokenizer, "<｜begin▁of▁sentence｜>")

    @property
    def _end_message_token(self) -> int:
        return single_token(self.tokenizer, "<｜end▁of▁sentence｜>")

    def get_stop_sequences(self) -> list[int]:
        return [self._end_message_token]

    def _opening(self, role: Role) -> str:
        if self._thinking:
            return "<｜System｜>" + _EFFORT_TEMPLATE.format(budget=self.reasoning_effort)
        return "<｜System｜>" if role == "system" else ""

    def _last_assistant_turn_start_index(self, messages: Sequence[Message]) -> int:
        """A later system message counts as a user turn, as in the template."""
        last = max(
            (i for i, m in enumerate(messages) if m["role"] == "user" or (m["role"] == "system" and i > 0)),
            default=-1,
        )
        return last + 1

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = message["role"]
        opening = self._opening(role) if ctx.idx == 0 else ""
        if role == "system":
            header, output = self._encode_after(
                opening if ctx.idx == 0 else "<｜System｜>", ensure_text(message["content"])
            )
            return RenderedMessage(header=chunk(header), output=[chunk(output)] if output else [])
        if role == "tool_declare":  # already folded into the system message
            return RenderedMessage(output=[])
        if _is_user_turn(message):
            if ctx.prev_message is not None and _is_user_turn(ctx.prev_message):
                return RenderedMessage(output=[])  # rendered by the turn's first message
            text = encode(self.tokenizer, ensure_text(message["content"]))
            header_ids = encode(self.tokenizer, opening + "<｜User｜>")
            return RenderedMessage(header=chunk(header_ids), output=[chunk(text)] if text else [])
        if role != "assistant":
            raise RendererError(f"Unsupported role for DeepSeek V4.1: {role}", field=f"messages[{ctx.idx}].role")
        drop_through = _DROP_REASONING_THROUGH.get()
        keeps_reasoning = self._thinking and ctx.idx > (-1 if drop_through is None else drop_through)
        prev = ctx.prev_message
        follows_user_turn = prev is not None and (_is_user_turn(prev) or (prev["role"] == "system" and ctx.idx > 1))
        marker = "<｜Assistant｜>" + ("<think>" if keeps_reasoning else "</think>")
        header_text = opening + (marker if follows_user_turn else "")
        reasoning, answer = _split_assistant(message)
        body = (reasoning + "</think>" if keeps_reasoning else "") + answer
        calls = tool_calls_of(message, ctx.idx)
        if calls:
            body += _render_tool_calls(calls)
        output = [*encode(self.tokenizer, body), self._end_message_token]
        head_chunk = chunk(encode(self.tokenizer, header_text)) if header_text else None
        return RenderedMessage(header=head_chunk, output=[chunk(output)])

    # ---- the template's turn structure around every public build -------------------------------

    @contextmanager
    def _conversation(self, messages: list[Message]) -> Iterator[None]:
        if _DROP_REASONING_THROUGH.get() is not None:
            yield
            return
        drops = self.strip_thinking_from_history and not any(m.get("role") == "tool_declare" for m in messages)
        through = -1
        if drops:
            try:
                through = _drop_reasoning_through(_normalize(messages))
            except (RendererError, KeyError, TypeError, ValueError):
                through = -1  # bad input: validation reports it
        token = _DROP_REASONING_THROUGH.set(through)
        try:
            yield
        finally:
            _DROP_REASONING_THROUGH.reset(token)

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        return _normalize(messages)

    def build_generation_prompt(
        self, messages: list[Message], role: Role = "assistant", prefill: str | None = None
    ) -> ModelInput:
        with self._conversation(messages):
            return super().build_generation_prompt(messages, role, prefill)

    def build_supervised_example(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    ) -> tuple[ModelInput, TensorData]:
        """Tool and user messages sharing a user turn are trained or masked together, as one message."""
        with encode_memo(self.tokenizer), self._conversation(messages):
            return self._build_supervised_example(messages, TrainOnWhat(train_on_what))

    # ---- parsing ---------------------------------------------------------------------------------

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        if not self._thinking:
            return response
        think_open, think_close = single_token(self.tokenizer, "<think>"), single_token(self.tokenizer, "</think>")
        if think_close in response and response[0] != think_open:
            return [think_open, *response]
        return response

    @staticmethod
    def _parse_tool_calls(block: str) -> tuple[list[ToolCall], list[UnparsedToolCall]]:
        body = block.removeprefix("\n\n").removeprefix(_CALLS_OPEN).removesuffix(_CALLS_CLOSE)
        invokes = list(_INVOKE_RE.finditer(body))
        if not invokes or _INVOKE_RE.sub("", body).strip():
            return [], [UnparsedToolCall(raw_text=block, error="Invalid DSML: malformed invoke")]
        calls: list[ToolCall] = []
        unparsed: list[UnparsedToolCall] = []
        for invoke in invokes:
            name, params_text = invoke.group(1), invoke.group(2)
            arguments: dict[str, object] = {}
            try:
                if not name.strip():
                    raise ValueError("empty function name")
                if _PARAM_RE.sub("", params_text).strip():
                    raise ValueError("text outside parameters")
                for param in _PARAM_RE.finditer(params_text):
                    key, is_string, value = param.groups()
                    if not key.strip():
                        raise ValueError("empty parameter name")
                    if key in arguments:
                        raise ValueError(f"duplicate parameter {key!r}")
                    arguments[key] = value if is_string == "true" else json.loads(value)
            except ValueError as e:  # json.JSONDecodeError is a ValueError
                unparsed.append(UnparsedToolCall(raw_text=invoke.group(0), error=f"Invalid DSML: {e}"))
                continue
            calls.append(ToolCall(function=FunctionBody(name=name, arguments=json.dumps(arguments))))
        return calls, unparsed

    def _parse_content(self, response: list[int], *, allow_missing_stop: bool) -> tuple[Message, ParseTermination]:
        message, termination = parse_response_for_stop_token(response, self.tokenizer, self._end_message_token)
        if not termination.is_clean and not allow_missing_stop:
            return message, termination
        content = message["content"]
        assert isinstance(content, str)
        block = _CALLS_BLOCK_RE.search(content)
        calls, unparsed = self._parse_tool_calls(block.group(0)) if block else ([], [])
        if block:
            after = content[block.end() :]
            if after.strip():
                unparsed.append(UnparsedToolCall(raw_text=after, error="Invalid DSML: output after calls block"))
            content = content[: block.start()]
        dangling = detect_unterminated_tool_block(content, _CALLS_OPEN, _CALLS_CLOSE)
        if dangling is None and "｜DSML｜" in content:
            dangling = UnparsedToolCall(raw_text=content, error="Invalid DSML: marker outside a calls block")
        if dangling is not None:
            unparsed.append(dangling)
        if calls:
            message["tool_calls"] = calls
        if unparsed:
            message["unparsed_tool_calls"] = unparsed
        parts = parse_think_blocks(content)
        message["content"] = parts if parts is not None else content
        return message, termination

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        """Restores the ``<think>`` prefill, then reads reasoning and the DSML calls block."""
        return self._parse_content(self._normalize_response_tokens(response), allow_missing_stop=False)

    def _parse_response_for_streaming(self, response: list[int]) -> tuple[Message, ParseTermination]:
        return self._parse_content(response, allow_missing_stop=True)

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        """Reasoning as ``reasoning_content``, arguments as a dict (the template iterates over them)."""
        result = openai_message(message, reasoning_field=True)
        for tc, raw in zip(result.get("tool_calls", []), tool_calls_of(message), strict=True):
            tc["function"]["arguments"] = _arguments_dict(raw.function.arguments)
        return result

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """The system prompt, and the tools as a ``tool_declare`` message (rendered in the same system turn)."""
        out: list[Message] = []
        if system_prompt:
            out.append(Message(role="system", content=system_prompt))
        if tools:
            payload = [{"type": "function", "function": dict(tool)} for tool in tools]
            out.append(Message(role="tool_declare", content=json.dumps(payload)))
        return out


class DeepSeekV4_1LowReasoningRenderer(DeepSeekV4_1Renderer):
    """Thinking mode, low effort (50)."""

    reasoning_effort = 50


class DeepSeekV4_1MaxReasoningRenderer(DeepSeekV4_1Renderer):
    """Thinking mode, max effort (100)."""

    reasoning_effort = 100


class DeepSeekV4_1DisableThinkingRenderer(DeepSeekV4_1Renderer):
    """Chat mode: no reasoning, no effort line, assistant headers end ``</think>``.

    Reasoning on the last assistant message is dropped (one warning), as the cookbook does; strict: refused.
    """

    reasoning_effort = None
    refuses_produced_reasoning = True
