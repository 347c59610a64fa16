"""Message and content-part types (text, thinking, image, audio) and the helpers that read them.

Same names, shapes and behaviour as the cookbook's ``renderers.base`` content helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.tool_calls import UnparsedToolCall, as_tool_call, tool_calls_of
from tinkerlite.types import EncodedTextChunk, ModelInputChunk

__all__ = [
    "AudioPart",
    "Content",
    "ContentPart",
    "ImagePart",
    "Message",
    "RenderContext",
    "RenderedMessage",
    "Role",
    "TextPart",
    "ThinkingPart",
    "content_to_jsonable",
    "ensure_list",
    "ensure_text",
    "format_content_as_string",
    "get_text_content",
    "has_thinking",
    "message_to_jsonable",
    "openai_message",
    "remove_thinking",
    "split_thinking_and_text",
]


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImagePart(TypedDict):
    type: Literal["image"]
    image: Any


class _AudioPartRequired(TypedDict):
    type: Literal["audio"]
    audio: Any


class AudioPart(_AudioPartRequired, total=False):
    """Audio input (encoded bytes, a ``data:`` URI or a path); MP3/FLAC also need frames and rate."""

    format: Literal["wav", "mp3", "flac"]
    num_frames: int
    sample_rate: int


class ThinkingPart(TypedDict):
    type: Literal["thinking"]
    thinking: str


ContentPart = TextPart | ImagePart | AudioPart | ThinkingPart
Content = str | list[ContentPart]
Role = str


class _MessageRequired(TypedDict):
    role: Role
    content: Content


class Message(_MessageRequired, total=False):
    """One chat turn. ``tool_calls`` may hold ``ToolCall`` objects or OpenAI-style dicts."""

    tool_calls: list[Any]
    unparsed_tool_calls: list[UnparsedToolCall]
    trainable: bool
    tool_call_id: str
    name: str


@dataclass
class RenderContext:
    """Where a message sits in its conversation; renderers decide thinking/stripping from it."""

    idx: int
    is_last: bool
    prev_message: Message | None = None
    next_message: Message | None = None
    last_user_index: int = -1
    in_last_assistant_turn: bool = False


@dataclass(frozen=True)
class RenderedMessage:
    """A message split for loss masking: ``header`` (seen, not produced), ``output`` (produced).

    ``stop_overlap`` is the part of a stop sequence that would otherwise duplicate the next header
    (RoleColon's ``User:``); it is appended only after the last message.
    """

    output: list[ModelInputChunk]
    header: EncodedTextChunk | None = None
    stop_overlap: EncodedTextChunk | None = None


# --------------------------------------------------------------------------------------------------
# Content helpers (same behaviour and names as the cookbook's)
# --------------------------------------------------------------------------------------------------


def ensure_text(content: Content) -> str:
    """Content as a string; raises when it is multimodal or has several parts."""
    if isinstance(content, str):
        return content
    if len(content) == 1 and content[0]["type"] == "text":
        return content[0]["text"]
    raise RendererError(f"Expected text content, got multimodal content with {len(content)} parts")


def ensure_list(content: Content) -> list[ContentPart]:
    if isinstance(content, str):
        return [TextPart(type="text", text=content)]
    return content


def has_thinking(content: Content) -> bool:
    """Reasoning as a ThinkingPart, or an opening ``<think>`` inside string content."""
    if isinstance(content, list):
        return any(p["type"] == "thinking" for p in content)
    return "<think>" in content


def remove_thinking(parts: list[ContentPart]) -> list[ContentPart]:
    return [p for p in parts if p["type"] != "thinking"]


def get_text_content(message: Message) -> str:
    """The visible text of a message (thinking parts dropped)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(p["text"] for p in content if p["type"] == "text")


def format_content_as_string(content: Content, separator: str = "\n") -> str:
    """Readable string form for logs and string-only APIs: thinking as ``<think>``, images as tags."""
    if isinstance(content, str):
        return content
    out: list[str] = []
    for p in content:
        if p["type"] == "thinking":
            out.append(f"<think>{p['thinking']}</think>")
        elif p["type"] == "text":
            out.append(p["text"])
        elif p["type"] == "image":
            img = p["image"]
            if isinstance(img, str):
                out.append(f"<image>{img}</image>")
            else:
                size = getattr(img, "size", ("?", "?"))
                out.append(f"<image>Image({size[0]}x{size[1]}, {getattr(img, 'mode', '?')})</image>")
        else:
            raise RendererError(f"Unknown content part type: {p['type']}")
    return separator.join(out)


def content_to_jsonable(content: Content) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    out: list[dict[str, Any]] = []
    for p in content:
        if p["type"] == "text":
            out.append({"type": "text", "text": p["text"]})
        elif p["type"] == "thinking":
            out.append({"type": "thinking", "thinking": p["thinking"]})
        elif p["type"] == "image":
            img = p["image"]
            out.append({"type": "image", "image": img} if isinstance(img, str) else {"type": "image"})
        else:
            raise RendererError(f"Unknown content part type: {p['type']}")
    return out


def message_to_jsonable(message: Message) -> dict[str, Any]:
    """A JSON-serialisable copy of a message that keeps every optional field."""
    result: dict[str, Any] = {"role": message["role"], "content": content_to_jsonable(message["content"])}
    if "tool_calls" in message:
        result["tool_calls"] = [as_tool_call(tc).model_dump() for tc in message["tool_calls"]]
    if "unparsed_tool_calls" in message:
        result["unparsed_tool_calls"] = [tc.model_dump() for tc in message["unparsed_tool_calls"]]
    for key in ("trainable", "tool_call_id", "name"):
        if key in message:
            result[key] = message[key]
    return result


def split_thinking_and_text(content: Content) -> tuple[str, str]:
    """(all thinking joined, all text joined) of a message's content."""
    parts = ensure_list(content)
    thinking = "".join(p["thinking"] for p in parts if p["type"] == "thinking")
    text = "".join(p["text"] for p in parts if p["type"] == "text")
    return thinking, text


def openai_message(message: Message, *, reasoning_field: bool) -> dict[str, Any]:
    """OpenAI/HF-template dict for a message; ``reasoning_field`` puts thinking in ``reasoning_content``."""
    result: dict[str, Any] = {"role": message["role"]}
    content = message["content"]
    if isinstance(content, str):
        result["content"] = content
    else:
        thinking: list[str] = []
        text: list[str] = []
        for p in content:
            if p["type"] == "text":
                text.append(p["text"])
            elif p["type"] == "thinking":
                if reasoning_field:
                    thinking.append(p["thinking"])
                else:
                    text.append(f"<think>{p['thinking']}</think>")
            elif p["type"] == "image":
                raise NotImplementedError("to_openai_message does not support ImagePart content")
        result["content"] = "".join(text)
        if thinking:
            result["reasoning_content"] = "".join(thinking)
    calls = tool_calls_of(message)
    if calls:
        result["tool_calls"] = [tc.model_dump() for tc in calls]
    if message["role"] == "tool":
        for key in ("tool_call_id", "name"):
            if key in message:
                result[key] = message[key]
    return result
