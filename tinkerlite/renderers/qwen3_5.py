"""Qwen3.5 / Qwen3.6: the Qwen3-VL frame with trimmed content, a ``<think>\\n`` prefill and XML tool calls.

Differences from Qwen3-VL (all from the Qwen3.5 HF template): content is ``trim``med; assistants after
the last user message get an empty ``<think>\\n\\n</think>\\n\\n`` when they did not reason, reasoning
is padded ``<think>\\n{t}\\n</think>\\n\\n``; the generation prompt ends ``<think>\\n`` (the disable
variant: the closed empty block); tool calls are ``<tool_call>\\n<function=NAME>\\n<parameter=P>\\nV
\\n</parameter>\\n</function>\\n</tool_call>``; consecutive tool results share one user block; tools are
declared before the system prompt.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tinkerlite.renderers.content import (
    ContentPart,
    Message,
    RenderContext,
    RenderedMessage,
    Role,
    TextPart,
    has_thinking,
    openai_message,
)
from tinkerlite.renderers.encoding import encode, single_token
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.parsing import UNTERMINATED_TOOL_BLOCK_ERROR, ParseTermination
from tinkerlite.renderers.qwen3 import Qwen3VLRenderer
from tinkerlite.renderers.tool_calls import (
    FunctionBody,
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    tool_call_arguments,
    tool_calls_of,
)

__all__ = ["Qwen3_5DisableThinkingRenderer", "Qwen3_5Renderer"]

_FUNCTION_BLOCK_RE = re.compile(
    r"^\s*<tool_call>\s*<function=(?P<name>[^>\n]+)>\s*(?P<body>.*?)\s*</function>\s*</tool_call>\s*$", re.DOTALL
)
_PARAM_BLOCK_RE = re.compile(r"<parameter=(?P<name>[^>\n]+)>\s*(?P<value>.*?)\s*</parameter>", re.DOTALL)

TOOLS_TEMPLATE = (
    "# Tools\n\nYou have access to the following functions:\n\n<tools>\n{tools}\n</tools>\n\n"
    "If you choose to call a function ONLY reply in the following format with NO suffix:\n\n"
    "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n"
    "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple lines\n"
    "</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n"
    "- Function calls MUST follow the specified format: an inner <function=...></function> block must be nested "
    "within <tool_call></tool_call> XML tags\n"
    "- Required parameters MUST be specified\n"
    "- You may provide optional reasoning for your function call in natural language BEFORE the function call, "
    "but NOT after\n"
    "- If there is no function call available, answer the question like normal with your current knowledge and "
    "do not tell the user about function calls\n</IMPORTANT>"
)


def _trim_parts(content: list[ContentPart]) -> list[ContentPart]:
    """The template's ``content|trim`` on list content: strip the visible text's ends, skip thinking."""
    parts = list(content)
    visible = [i for i, p in enumerate(parts) if p["type"] != "thinking"]
    for indices, strip in ((visible, str.lstrip), (visible[::-1], str.rstrip)):
        for i in indices:
            part = parts[i]
            if part["type"] != "text":
                break
            text = strip(part["text"])
            parts[i] = TextPart(type="text", text=text)
            if text:
                break
    return parts


def parse_xml_tool_call(raw_text: str) -> ToolCall | UnparsedToolCall:
    """``<tool_call><function=NAME><parameter=P>V</parameter>...</function></tool_call>`` -> a ToolCall.

    Values that parse as JSON are decoded, others kept as strings.
    """
    match = _FUNCTION_BLOCK_RE.match(raw_text)
    if not match:
        return UnparsedToolCall(raw_text=raw_text, error="Malformed Qwen3.5 tool call XML")
    name, body = match.group("name").strip(), match.group("body")
    if not name:
        return UnparsedToolCall(raw_text=raw_text, error="Missing function name")
    arguments: dict[str, object] = {}
    pos = 0
    for param in _PARAM_BLOCK_RE.finditer(body):
        if body[pos : param.start()].strip():
            return UnparsedToolCall(raw_text=raw_text, error="Unexpected non-parameter content inside <function> block")
        param_name, value_text = param.group("name").strip(), param.group("value").strip("\n")
        if not param_name:
            return UnparsedToolCall(raw_text=raw_text, error="Empty parameter name")
        try:
            arguments[param_name] = json.loads(value_text)
        except json.JSONDecodeError:
            arguments[param_name] = value_text
        pos = param.end()
    if body[pos:].strip():
        return UnparsedToolCall(raw_text=raw_text, error="Unexpected trailing content inside <function> block")
    return ToolCall(function=FunctionBody(name=name, arguments=json.dumps(arguments)))


class Qwen3_5Renderer(Qwen3VLRenderer):
    """Qwen3.5 (thinking on); ``strip_thinking_from_history=False`` is ``qwen3_5_preserve_thinking``."""

    groups_consecutive_tool_responses = True

    @property
    def has_extension_property(self) -> bool:
        # A turn sampled after ``<think>\n`` continues with a lone ``\n``; history writes ``\n\n`` (one token).
        return False

    def _trim_content(self, content: str | list[ContentPart]) -> str | list[ContentPart]:
        """The template's ``content|trim``."""
        return content.strip() if isinstance(content, str) else _trim_parts(content)

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        return super().render_message({**message, "content": self._trim_content(message["content"])}, ctx)

    def _generation_suffix_str(self, role: Role, ctx: RenderContext) -> str:
        return ("\n" if ctx.idx > 0 else "") + f"<|im_start|>{role}\n<think>\n"

    def _generation_suffix_in_header(self, message: Message, ctx: RenderContext) -> str:
        """The produced turn is sampled after the prefill, so the prefill belongs to its header."""
        if message["role"] != "assistant" or not ctx.is_last:
            return ""
        return self._generation_suffix_str(message["role"], ctx)

    def _get_generation_suffix(self, role: Role, ctx: RenderContext) -> list[int]:
        return encode(self.tokenizer, self._generation_suffix_str(role, ctx))

    def _assistant_header_suffix(self, message: Message, ctx: RenderContext) -> str:
        if ctx.idx <= ctx.last_user_index:
            return ""
        return "" if has_thinking(message.get("content", "")) else "<think>\n\n</think>\n\n"

    def _format_thinking_text(self, thinking: str) -> str:
        return f"<think>\n{thinking}\n</think>\n\n"

    def _format_tool_call_argument(self, value: object) -> str:
        """The Qwen3.5 template: ``tojson`` for mappings/sequences, ``string`` (Python ``True``/``None``) else."""
        return json.dumps(value) if isinstance(value, (dict, list)) else str(value)

    def _format_tool_calls_text(self, message: Message, idx: int) -> str:
        content = message.get("content", "")
        if isinstance(content, str):
            visible = bool(content.strip())
        else:
            visible = any((p["type"] == "text" and p["text"].strip()) or p["type"] == "image" for p in content)
        calls = [self._format_tool_call_xml(tc, idx, j) for j, tc in enumerate(tool_calls_of(message, idx))]
        return ("\n\n" if visible else "") + "\n".join(calls)

    def _format_tool_call_xml(self, tc: ToolCall, idx: int, j: int) -> str:
        """``<tool_call>\\n<function=NAME>`` + one ``<parameter=K>\\nV\\n</parameter>`` per argument."""
        args = tool_call_arguments(tc, where=f"tool_calls[{j}]") if tc.function.arguments else {}
        if not isinstance(args, dict):  # the template iterates over the arguments' items
            raise RendererError(
                "tool call arguments must be a JSON object", field=f"messages[{idx}].tool_calls[{j}].arguments"
            )
        lines = [f"<tool_call>\n<function={tc.function.name}>"]
        lines += [f"<parameter={k}>\n{self._format_tool_call_argument(v)}\n</parameter>" for k, v in args.items()]
        lines.append("</function>\n</tool_call>")
        return "\n".join(lines)

    # ---- parsing ---------------------------------------------------------------------------------

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        prefix = encode(self.tokenizer, "<think>\n")
        close = single_token(self.tokenizer, "</think>")
        if response[: len(prefix)] != prefix and close in response:
            return prefix + list(response)
        return response

    def _postprocess(self, message: Message) -> None:
        content = message.get("content")
        if isinstance(content, list):
            seen_thinking = False
            for p in content:
                if p["type"] == "thinking":
                    p["thinking"] = p["thinking"].strip()
                    seen_thinking = True
                elif seen_thinking and p["type"] == "text":
                    if p["text"].startswith("\n\n"):
                        p["text"] = p["text"][2:]
                    break
        converted: list[ToolCall] = []
        remaining: list[UnparsedToolCall] = []
        for unparsed in message.get("unparsed_tool_calls", []):
            if unparsed.error.startswith(UNTERMINATED_TOOL_BLOCK_ERROR) or "<function=" not in unparsed.raw_text:
                remaining.append(unparsed)
                continue
            parsed = parse_xml_tool_call(unparsed.raw_text)
            (converted if isinstance(parsed, ToolCall) else remaining).append(parsed)  # type: ignore[arg-type]
        if converted:
            message["tool_calls"] = [*message.get("tool_calls", []), *converted]
        if remaining:
            message["unparsed_tool_calls"] = remaining
        else:
            message.pop("unparsed_tool_calls", None)

    def _parse(self, response: list[int], *, allow_missing_stop: bool) -> tuple[Message, ParseTermination]:
        message, termination = super()._parse(response, allow_missing_stop=allow_missing_stop)
        if termination.is_clean or allow_missing_stop:
            self._postprocess(message)
        return message, termination

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        """Arguments as a mapping: the Qwen3.5 template iterates over them."""
        result = openai_message(message, reasoning_field=True)
        for tc in result.get("tool_calls", []):
            tc["function"]["arguments"] = json.loads(tc["function"]["arguments"])
        return result

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """One system message: the tools first, then the system prompt."""
        if not tools:
            return [Message(role="system", content=system_prompt)]
        text = TOOLS_TEMPLATE.format(tools="\n".join(json.dumps(tool) for tool in tools))
        return [Message(role="system", content=text + "\n\n" + system_prompt if system_prompt else text)]


class Qwen3_5DisableThinkingRenderer(Qwen3_5Renderer):
    """Qwen3.5 with ``enable_thinking=False``: the prompt ends with ``<think>\\n\\n</think>\\n\\n``."""

    disables_thinking = True

    def _generation_suffix_str(self, role: Role, ctx: RenderContext) -> str:
        return ("\n" if ctx.idx > 0 else "") + f"<|im_start|>{role}\n<think>\n\n</think>\n\n"
