"""OpenAI Chat Completions <-> tinkerlite messages, tools and tool calls, in both directions.

Stateless and model-neutral, as the cookbook's module: an assistant's ``reasoning_content`` is a leading
``ThinkingPart``; ``image_url`` / ``input_audio`` parts are image / audio parts; ``tool_declare`` messages
become the request's ``tools``. Images and audio are inlined through :mod:`tinkerlite.image_processing_utils`
and :mod:`tinkerlite.audio_processing_utils` (Pillow only where an image must be re-encoded).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, Literal, TypedDict, cast

from tinkerlite.renderers.base import (
    AudioPart,
    ContentPart,
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolSpec,
)

__all__ = [
    "OpenAIChatInput",
    "openai_messages_to_tinker",
    "openai_tools_to_tinker",
    "tinker_messages_to_openai",
    "tool_specs_to_openai_tools",
]


def _reasoning_content(msg: dict[str, Any]) -> str | None:
    reasoning = msg.get("reasoning_content")
    if reasoning is None or reasoning == "":
        return None
    if not isinstance(reasoning, str):
        raise ValueError(f"reasoning_content must be a string; got {type(reasoning)!r}")
    if msg["role"] != "assistant":
        raise ValueError(f"reasoning_content is only valid on assistant messages; got role {msg['role']!r}")
    return reasoning


def _openai_part_to_tinker(part: dict[str, Any]) -> ContentPart:
    kind = part.get("type")
    if kind == "image_url":
        ref = part["image_url"]
        return ImagePart(type="image", image=ref if isinstance(ref, str) else ref["url"])
    if kind == "input_audio":
        spec = part["input_audio"]
        audio = AudioPart(
            type="audio",
            audio=base64.b64decode(spec["data"], validate=True),
            format=cast(Literal["wav", "mp3", "flac"], spec["format"].lower()),
        )
        for key in ("num_frames", "sample_rate"):
            if key in spec:
                audio[key] = spec[key]
        return audio
    return cast(ContentPart, part)


def openai_messages_to_tinker(messages: list[dict[str, Any]]) -> list[Message]:
    """OpenAI/LiteLLM message dicts as tinkerlite Messages (reasoning_content -> a leading ThinkingPart)."""
    out: list[Message] = []
    for msg in messages:
        content: Any = msg.get("content") or ""
        if not isinstance(content, str):
            content = [_openai_part_to_tinker(part) for part in content]
        reasoning = _reasoning_content(msg)
        if reasoning is not None:
            thinking: ThinkingPart = {"type": "thinking", "thinking": reasoning}
            if isinstance(content, str):
                content = [thinking] + ([TextPart(type="text", text=content)] if content else [])
            else:
                content = [thinking, *content]
        converted: Message = {"role": msg["role"], "content": content}
        for key in ("name", "tool_call_id"):
            if key in msg:
                converted[key] = msg[key]
        if "tool_calls" in msg:
            converted["tool_calls"] = [ToolCall.from_openai(tc) for tc in msg["tool_calls"]]
        out.append(converted)
    return out


class _OpenAIChatMessages(TypedDict):
    messages: list[dict[str, Any]]


class OpenAIChatInput(_OpenAIChatMessages, total=False):
    """The ``messages`` and (optional) ``tools`` of an OpenAI Chat Completions request."""

    tools: list[dict[str, Any]]


def tinker_messages_to_openai(messages: Sequence[Message]) -> OpenAIChatInput:
    """tinkerlite Messages as the ``messages`` (and ``tools``, from ``tool_declare`` messages) of a request.

    Thinking parts join with ``"\\n"`` into ``reasoning_content``; local images and audio are inlined, an
    http(s) image URL is kept; ``trainable`` and ``unparsed_tool_calls`` have no OpenAI field and are dropped.
    ``ValueError`` for thinking off an assistant, a ``tool_declare`` that is not a JSON list of OpenAI tools,
    one tool name declared twice with different specs, or an unknown content part.
    """
    seen: dict[str, dict[str, Any]] = {}
    tools: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] != "tool_declare":
            continue
        for tool in _declared_tools(message):
            name = tool["function"]["name"]
            if name not in seen:
                seen[name] = tool
                tools.append(tool)
            elif seen[name] != tool:
                raise ValueError(f"tool {name!r} is declared twice with different specs")
    result: OpenAIChatInput = {
        "messages": [_tinker_message_to_openai(m) for m in messages if m["role"] != "tool_declare"]
    }
    if tools:
        result["tools"] = tools
    return result


def _declared_tools(message: Message) -> list[dict[str, Any]]:
    """The OpenAI tools a ``tool_declare`` message holds (a JSON list, as tool_specs_to_openai_tools writes)."""
    content = message["content"]
    tools: Any = None
    if isinstance(content, str):
        try:
            tools = json.loads(content)
        except json.JSONDecodeError:
            tools = None
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("function"), dict) for t in tools
    ):
        raise ValueError(
            "a tool_declare message must hold a JSON list of OpenAI tools, as tool_specs_to_openai_tools returns "
            "(Kimi K2.5 writes TypeScript, which has no OpenAI form)"
        )
    for tool in tools:
        name = tool["function"].get("name")
        if not isinstance(name, str):
            raise ValueError(f"a declared tool name must be a string; got {name!r}")
    return tools


def _is_remote_url(image: object) -> bool:
    return isinstance(image, str) and image.split(":", 1)[0].lower() in ("http", "https") and "://" in image


def _part_to_openai(part: Any, role: str, thinking: list[str]) -> dict[str, Any] | None:
    kind = part["type"]
    if kind == "thinking":
        if role != "assistant":
            raise ValueError(f"thinking is only valid on assistant messages; got role {role!r}")
        thinking.append(part["thinking"])  # one reasoning string per message: order vs text is lost
        return None
    if kind == "text":
        return {"type": "text", "text": part["text"]}
    if kind == "image":
        from tinkerlite.image_processing_utils import image_to_data_uri

        image = part["image"]
        return {"type": "image_url", "image_url": {"url": image if _is_remote_url(image) else image_to_data_uri(image)}}
    if kind == "audio":
        from tinkerlite.audio_processing_utils import audio_part_to_input_audio

        return {"type": "input_audio", "input_audio": audio_part_to_input_audio(part)}
    raise ValueError(f"unsupported content part type: {kind!r}")


def _tool_call_to_openai(tc: Any) -> Any:
    if not isinstance(tc, ToolCall):
        return tc
    out: dict[str, Any] = {"type": tc.type}
    if tc.id is not None:
        out["id"] = tc.id
    out["function"] = {"name": tc.function.name, "arguments": tc.function.arguments}
    return out


def _tinker_message_to_openai(message: Message) -> dict[str, Any]:
    role = message["role"]
    result: dict[str, Any] = {"role": role}
    content = message["content"]
    if isinstance(content, str):
        result["content"] = content
    else:
        thinking: list[str] = []
        parts = [p for p in (_part_to_openai(part, role, thinking) for part in content) if p is not None]
        if thinking:
            result["reasoning_content"] = "\n".join(thinking)
        if len(parts) == 1 and parts[0].get("type") == "text":
            result["content"] = parts[0]["text"]
        elif not parts:
            result["content"] = None if message.get("tool_calls") else ""
        else:
            result["content"] = parts
    if "tool_calls" in message:
        result["tool_calls"] = [_tool_call_to_openai(tc) for tc in message["tool_calls"]]
    for key in ("tool_call_id", "name"):
        if key in message:
            result[key] = message[key]
    return result


def openai_tools_to_tinker(tools: list[dict[str, Any]]) -> list[ToolSpec]:
    """OpenAI function tools as renderer ToolSpecs (non-function tools are skipped)."""
    return [
        ToolSpec(
            name=t["function"]["name"],
            description=t["function"].get("description", ""),
            parameters=t["function"].get("parameters", {}),
        )
        for t in tools
        if t.get("type") == "function"
    ]


def tool_specs_to_openai_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    """Renderer ToolSpecs as OpenAI function tools."""
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["parameters"]},
        }
        for t in tools
    ]
