"""gpt-oss (OpenAI Harmony): channels ``analysis`` / ``commentary`` / ``final`` and TypeScript tool schemas."""

from __future__ import annotations

import datetime as _dt
import json
import re
import warnings
from collections.abc import Sequence
from typing import Any

from tinkerlite.renderers.base import Renderer
from tinkerlite.renderers.content import (
    ContentPart,
    Message,
    RenderContext,
    RenderedMessage,
    TextPart,
    ThinkingPart,
    ensure_text,
    openai_message,
    split_thinking_and_text,
)
from tinkerlite.renderers.encoding import chunk, encode, single_token
from tinkerlite.renderers.errors import RendererError, warn_drop
from tinkerlite.renderers.parsing import UNTERMINATED_TOOL_BLOCK_ERROR, ParseTermination
from tinkerlite.renderers.tool_calls import (
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
    attach_tool_calls,
    tool_call_from_text,
    tool_calls_of,
)

_INTERNAL_SYSTEM_ROLE = "_gptoss_internal_system"
_SYSTEM_PROMPT = (
    "You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\n"
    "Current date: {current_date}\n\n"
    "Reasoning: {reasoning_effort}\n\n"
    "# Valid channels: analysis, commentary, final. Channel must be included for every message."
)
_END_TOKENS = ("<|end|>", "<|call|>", "<|return|>")


# ---- JSON schema -> Harmony's TypeScript-like declarations ------------------------------------------


def _ts_type(schema: dict[str, Any]) -> str:
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " | ".join(_ts_type(s) for s in schema[key])
    json_type = schema.get("type", "any")
    if isinstance(json_type, list):
        return " | ".join(_ts_type({"type": t}) for t in json_type)
    if json_type == "string":
        if "enum" in schema:
            return " | ".join(json.dumps(v) for v in schema["enum"])
        base = "string"
    elif json_type in ("number", "integer"):
        base = "number"
    elif json_type == "boolean":
        base = "boolean"
    elif json_type == "array":
        base = f"{_ts_type(schema.get('items', {}))}[]"
    elif json_type == "object":
        base = _ts_inline_object(schema)
    else:
        base = "any"
    return f"{base} | null" if schema.get("nullable") else base


def _ts_inline_object(schema: dict[str, Any]) -> str:
    if schema.get("type") != "object":
        return "any"
    required = set(schema.get("required", []))
    fields = [
        f"{name}{'' if name in required else '?'}: {_ts_type(sub)}"
        for name, sub in schema.get("properties", {}).items()
    ]
    return "{ " + ", ".join(fields) + " }"


def _schema_comments(schema: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if schema.get("title"):
        lines += [str(schema["title"]), ""]
    if schema.get("description"):
        lines.append(str(schema["description"]))
    if schema.get("examples"):
        lines.append("Examples:")
        lines += [f"- {json.dumps(e)}" for e in schema["examples"]]
    return lines


def _parameters_block(schema: dict[str, Any]) -> str:
    if schema.get("type") != "object" or not schema.get("properties"):
        return "()"
    header = "(_:" + (f" // {schema['description']}" if schema.get("description") else "")
    lines = [header, "{"]
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        lines += [f"// {c}" for c in _schema_comments(sub)]
        default = f" // default: {json.dumps(sub['default'])}" if "default" in sub else ""
        lines.append(f"{name}{'' if name in required else '?'}: {_ts_type(sub)},{default}")
    lines.append("})")
    return "\n".join(lines)


def _tool_declaration(tool: ToolSpec) -> str:
    lines = [f"// {tool['description']}"] if tool.get("description") else []
    lines.append(f"type {tool['name']} = {_parameters_block(tool.get('parameters') or {})} => any;")
    return "\n".join(lines)


# ---- Harmony output parsing ---------------------------------------------------------------------------


def _harmony_messages(text: str) -> list[dict[str, str | None]]:
    """Split decoded Harmony text into messages with channel, recipient and body (plain string search)."""
    out: list[dict[str, str | None]] = []
    idx = 0
    while True:
        msg_at = text.find("<|message|>", idx)
        if msg_at == -1:
            return out
        start = text.rfind("<|start|>", idx, msg_at)
        start = idx if start == -1 else start
        header = text[start:msg_at]
        body_at = msg_at + len("<|message|>")
        end_at, end_token = len(text), ""
        for token in _END_TOKENS:
            at = text.find(token, body_at)
            if at != -1 and at < end_at:
                end_at, end_token = at, token
        channel = re.search(r"<\|channel\|>([^<\s]+)", header)
        recipient = re.search(r"to=([^\s<]+)", header)
        out.append(
            {
                "channel": channel.group(1) if channel else None,
                "recipient": recipient.group(1) if recipient else None,
                "content": text[body_at:end_at],
                "raw_text": text[start : end_at + len(end_token)] if end_token else text[start:],
            }
        )
        idx = end_at + len(end_token)


class GptOssRenderer(Renderer):
    """Harmony: ``<|start|>{role}<|channel|>{channel}<|message|>{text}<|end|>``, no separators.

    A last assistant message ends ``<|return|>``, history ones ``<|end|>``; tool calls go to the
    commentary channel as ``to=functions.NAME ... <|constrain|>json<|message|>{args}<|call|>``.
    ``use_system_prompt`` (iff ``reasoning_effort``) prepends OpenAI's system prompt; its date is
    ``current_date`` or today's. Reasoning is rendered on history messages too, as the cookbook does.

    A tool result without ``name`` is written ``functions.unknown`` with one warning, as the cookbook
    does (``strict``: refused).
    """

    allowed_roles = frozenset({"system", "developer", "user", "assistant", "tool", _INTERNAL_SYSTEM_ROLE})
    text_only_roles = allowed_roles - {"assistant"}
    system_prompt_content = _SYSTEM_PROMPT

    def __init__(
        self,
        tokenizer: Any,
        use_system_prompt: bool = False,
        reasoning_effort: str | None = None,
        current_date: str | None = None,
    ) -> None:
        super().__init__(tokenizer)
        if use_system_prompt != (reasoning_effort is not None):
            raise RendererError("reasoning_effort must be set if and only if use_system_prompt is True")
        self.use_system_prompt = use_system_prompt
        self.reasoning_effort = reasoning_effort
        self.current_date = current_date

    def _validate_family(self, message: Message, idx: int, messages: Sequence[Message]) -> None:
        if self.strict and message["role"] == "tool" and not message.get("name"):
            raise RendererError(
                "gpt-oss writes tool results as '<|start|>functions.NAME to=assistant'; give the tool message "
                "the called function's name",
                field=f"messages[{idx}].name",
            )

    def _system_message(self) -> Message | None:
        if not self.use_system_prompt:
            return None
        date = self.current_date or _dt.date.today().strftime("%Y-%m-%d")
        text = self.system_prompt_content.format(current_date=date, reasoning_effort=self.reasoning_effort)
        return Message(role=_INTERNAL_SYSTEM_ROLE, content=text)

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        system = self._system_message()
        if system is None:
            return messages
        if messages and messages[0]["role"] == "system":
            warnings.warn(
                "use_system_prompt=True and the conversation starts with a system message: the built-in "
                "system prompt is prepended, and yours becomes a developer message",
                UserWarning,
                stacklevel=4,
            )
        return [system, *messages]

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        role = message["role"]
        if role == "tool":
            return self._render_tool_result(message, ctx)
        wire_role = {"system": "developer", _INTERNAL_SYSTEM_ROLE: "system"}.get(role, role)
        calls: list[ToolCall] = []
        if role == "assistant":
            thinking, text = split_thinking_and_text(message["content"])
            calls = tool_calls_of(message, ctx.idx)
            body = f"<|channel|>analysis<|message|>{thinking}<|end|><|start|>assistant" if thinking else ""
            if calls:
                if text:
                    body += f"<|channel|>commentary<|message|>{text}<|end|><|start|>assistant"
                body += "<|start|>assistant".join(
                    f" to=functions.{tc.function.name}<|channel|>commentary <|constrain|>json<|message|>"
                    f"{tc.function.arguments}<|call|>"
                    for tc in calls
                )
            else:
                body += f"<|channel|>final<|message|>{text}" + ("<|return|>" if ctx.is_last else "<|end|>")
        elif role == "system":
            body = f"<|message|># Instructions\n\n{ensure_text(message['content'])}\n\n<|end|>"
        else:
            body = f"<|message|>{ensure_text(message['content'])}<|end|>"
        header = encode(self.tokenizer, f"<|start|>{wire_role}")
        return RenderedMessage(header=chunk(header), output=[chunk(encode(self.tokenizer, body))])

    def _render_tool_result(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        name = message.get("name") or ""
        if not name:
            warn_drop(self, "tool_name", "got a tool result without 'name': it is written as 'functions.unknown'")
            name = "unknown"
        if not name.startswith("functions."):
            name = f"functions.{name}"
        header = encode(self.tokenizer, f"<|start|>{name} to=assistant")
        body = encode(self.tokenizer, f"<|channel|>commentary<|message|>{ensure_text(message['content'])}<|end|>")
        return RenderedMessage(header=chunk(header), output=[chunk(body)])

    @property
    def _return_token(self) -> int:
        return single_token(self.tokenizer, "<|return|>")

    @property
    def _call_token(self) -> int:
        return single_token(self.tokenizer, "<|call|>")

    def get_stop_sequences(self) -> list[int]:
        return [self._return_token, self._call_token]

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        ret, call = self._return_token, self._call_token
        n_call, n_ret = response.count(call), response.count(ret)
        if n_call == 0 and n_ret == 0:
            return Message(role="assistant", content=self.tokenizer.decode(list(response))), ParseTermination.MALFORMED
        if n_call > 1 or n_ret > 1:
            raise RendererError(
                f"When parsing response, expected at most 1 <|call|> and 1 <|return|> token, got {n_call} and "
                f"{n_ret}. You probably are using the wrong stop tokens when sampling"
            )
        stops = [response.index(t) for t, n in ((ret, n_ret), (call, n_call)) if n]
        text = self.tokenizer.decode(list(response[: min(stops)]))
        parts: list[ContentPart] = []
        results: list[ToolCall | UnparsedToolCall] = []
        for msg in _harmony_messages(text):
            body = msg["content"] or ""
            if not body.strip():
                continue
            recipient = msg["recipient"]
            if recipient and recipient.startswith("functions."):
                name = recipient.split("functions.", 1)[1]
                results.append(tool_call_from_text(name, body.strip(), msg["raw_text"] or ""))
            elif msg["channel"] == "analysis":
                parts.append(ThinkingPart(type="thinking", thinking=body))
            elif msg["channel"] in ("final", "commentary"):
                parts.append(TextPart(type="text", text=body))
        if text.count("to=functions.") > len(results):
            start = text.rfind("<|start|>")
            results.append(
                UnparsedToolCall(
                    raw_text=text[start:] if start != -1 else text,
                    error=f"{UNTERMINATED_TOOL_BLOCK_ERROR}: 'to=functions.' tool-call header without a "
                    "parsable arguments payload",
                )
            )
        message = Message(role="assistant", content=parts if parts else text)
        attach_tool_calls(message, results)
        return message, ParseTermination.STOP_SEQUENCE

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        return openai_message(message, reasoning_field=True)

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """A system routing line for tools, then a developer message with instructions and TypeScript tools."""
        out: list[Message] = []
        if tools:
            out.append(
                Message(
                    role=_INTERNAL_SYSTEM_ROLE,
                    content="Calls to these tools must go to the commentary channel: 'functions'.",
                )
            )
        sections = [f"# Instructions\n\n{system_prompt}"] if system_prompt else []
        if tools:
            decls = "\n\n".join(_tool_declaration(t) for t in tools)
            sections.append(
                f"# Tools\n\n## functions\n\nnamespace functions {{\n\n{decls}\n\n}} // namespace functions"
            )
        if sections:
            out.append(Message(role="developer", content="\n\n".join(sections)))
        return out
