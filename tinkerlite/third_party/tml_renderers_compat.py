"""tinkerlite Messages <-> ``tml_renderers.chat.MessageList``, built with tml-renderers' own constructors.

What the cookbook's module does, for code that drives the compiled ``tml_renderers`` wheel directly:
thinking and text parts keep their order, a ``tool_declare`` message keeps its place, and
``unparsed_tool_calls`` is dropped (tml-renderers has no content for it);
``tinker_messages_to_sft_message_list`` zeroes the weight of the assistant turns ``TrainOnWhat`` does not
select. Every function needs ``tml_renderers`` (and Pillow for data-URI images): without it a
:class:`~tinkerlite.tokenizer_utils.TmlRenderersUnavailableError` says what to install. tinkerlite's own
``tml_v0`` renderer does not go through this module (see :mod:`tinkerlite.renderers.tml_renderers_adapter`,
whose ``TrainOnWhat`` selection this module shares).
"""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Sequence
from importlib import import_module
from typing import Any, Literal, cast
from urllib.parse import urlparse

from tinkerlite._optional import require
from tinkerlite.renderers.base import AudioPart, ContentPart, Message, ToolCall, TrainOnWhat
from tinkerlite.renderers.tml_renderers_adapter import _trained_assistant_indices
from tinkerlite.third_party.openai_compat import _declared_tools
from tinkerlite.tokenizer_utils import ensure_tml_renderers_importable

__all__ = [
    "message_list_to_tinker_messages",
    "tinker_messages_to_message_list",
    "tinker_messages_to_sft_message_list",
]

_AUDIO_MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac"}


def _chat() -> Any:
    ensure_tml_renderers_importable()
    return import_module("tml_renderers.chat")


def _audio_formats(chat: Any) -> dict[str, Any]:
    return {"wav": chat.AudioFormat.Wav, "mp3": chat.AudioFormat.Mp3, "flac": chat.AudioFormat.Flac}


def _tool_declare(message: Message) -> Any:
    chat = _chat()
    specs = []
    for tool in _declared_tools(message):
        fn = tool["function"]
        parameters = fn.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ValueError("a declared tool's parameters must be a dict")
        kind, description = tool.get("type"), fn.get("description")
        specs.append(
            chat.ToolSpecJson(
                kind if isinstance(kind, str) else "function",
                fn["name"],
                description if isinstance(description, str) else "",
                parameters,
            )
        )
    return chat.ToolDeclareJson(specs)


def _image(url: str, image_url: dict[str, Any]) -> Any:
    """An ImagePointer: size and format read from a base64 data URI, else given by ``image_url``."""
    chat = _chat()
    formats = {"png": chat.ImageFormat.Png, "jpeg": chat.ImageFormat.Jpeg, "webp": chat.ImageFormat.Webp}
    header, _, payload = url.partition(",")
    if url.startswith("data:") and "base64" in header.lower().split(";")[1:]:
        pil = require("PIL.Image", "reading a data-URI image's size for tml-renderers", extra="vision")
        with pil.open(io.BytesIO(base64.b64decode(payload))) as img:
            width, height = img.size
            image_format = formats.get((img.format or "").lower(), chat.ImageFormat.Png)
    elif "width" in image_url and "height" in image_url:
        width, height = image_url["width"], image_url["height"]
        image_format = formats[str(image_url.get("format", "png")).lower()]
    else:
        raise ValueError(f"image {url[:64]!r} must be a base64 data URI or give width and height")
    if width <= 0 or height <= 0:
        raise ValueError(f"image {url[:64]!r} has size {width}x{height}")
    return chat.ImagePointer(url, image_format, width, height)


def _audio(input_audio: dict[str, Any]) -> Any:
    """An AudioPointer for an inline ``input_audio``; a WAV's frames and rate come from its header."""
    chat = _chat()
    data, fmt = input_audio["data"], input_audio["format"].lower()
    if fmt not in _AUDIO_MIME:
        raise ValueError(f"unsupported audio format {fmt!r}")
    if fmt == "wav":
        try:
            with wave.open(io.BytesIO(base64.b64decode(data, validate=True)), "rb") as wav:
                num_frames, sample_rate = wav.getnframes(), wav.getframerate()
        except (EOFError, wave.Error) as e:
            raise ValueError(f"could not read WAV header from input_audio data: {e!r}") from e
    elif "num_frames" in input_audio and "sample_rate" in input_audio:
        num_frames, sample_rate = input_audio["num_frames"], input_audio["sample_rate"]
    else:
        raise ValueError(f"{fmt} input_audio must carry num_frames and sample_rate")
    if sample_rate == 0:
        raise ValueError(f"{fmt} audio has sample_rate 0")
    return chat.AudioPointer(
        f"data:{_AUDIO_MIME[fmt]};base64,{data}", _audio_formats(chat)[fmt], num_frames, sample_rate
    )


def _is_remote(source: object) -> bool:
    return isinstance(source, str) and urlparse(source).scheme not in ("", "data", "file")


def _remote_audio(part: AudioPart) -> Any:
    """A URL is kept as is (the renderer decides whether it can load it); its metadata must be given."""
    chat = _chat()
    if "format" not in part or "num_frames" not in part or "sample_rate" not in part:
        raise ValueError("an AudioPart with a URL must give format, num_frames, and sample_rate")
    return chat.AudioPointer(
        cast(str, part["audio"]), _audio_formats(chat)[part["format"]], part["num_frames"], part["sample_rate"]
    )


def _content(part: dict[str, Any]) -> Any:
    from tinkerlite.audio_processing_utils import audio_part_to_input_audio
    from tinkerlite.image_processing_utils import image_to_data_uri

    chat = _chat()
    kind = part["type"]
    if kind == "text":
        return chat.Text(part["text"])
    if kind == "thinking":
        return chat.Thinking(part["thinking"])
    if kind == "image":
        return _image(image_to_data_uri(part["image"]), {})
    if kind == "audio":
        audio = cast(AudioPart, part)
        return _remote_audio(audio) if _is_remote(part["audio"]) else _audio(audio_part_to_input_audio(audio))
    if kind == "tool_error":
        return chat.ToolError(part["text"])
    if kind == "image_url":  # OpenAI parts, which the wheel's own reader accepts too
        ref = part["image_url"]
        return _image(ref, {}) if isinstance(ref, str) else _image(ref["url"], ref)
    if kind == "input_audio":
        return _audio(part["input_audio"])
    raise ValueError(f"unsupported content part type: {kind!r}")


def _invoke_tool(call: ToolCall | dict[str, Any]) -> Any:
    chat = _chat()
    if not isinstance(call, ToolCall):
        # a dict may omit its arguments or give them as an object, as tml-renderers accepts
        fn = dict(call["function"])
        args = fn.get("arguments")
        fn["arguments"] = "{}" if args is None else args if isinstance(args, str) else json.dumps(args)
        call = ToolCall.from_openai({**call, "function": fn})
    arguments = json.loads(call.function.arguments)
    if not isinstance(arguments, dict):
        raise ValueError("tool call arguments must decode to a JSON object")
    # each argument value is its own JSON text, in json.dumps's default spacing
    tool_args = [chat.ToolArg(name, json.dumps(value)) for name, value in arguments.items()]
    return chat.InvokeTool(chat.StructuredToolCall(call.function.name, args=tool_args, tool_call_id=call.id))


def _tml_renderers_openai_message(message: Message) -> Any:
    """One Message as one ``tml_renderers.chat.OpenAIMessage``."""
    chat = _chat()
    role = message["role"]
    if role == "tool_declare":
        return chat.OpenAIMessage(
            author=chat.Author(chat.AuthorKind.System, "tool_declare"), content=[_tool_declare(message)]
        )
    kinds = {
        "user": chat.AuthorKind.User,
        "assistant": chat.AuthorKind.Model,
        "system": chat.AuthorKind.System,
        "tool": chat.AuthorKind.Tool,
    }
    if role not in kinds:
        raise ValueError(f"unsupported role: {role!r}")
    content = message.get("content")
    parts: list[dict[str, Any]] = (
        [{"type": "text", "text": content}] if isinstance(content, str) else [dict(p) for p in content or []]
    )
    items = [_content(p) for p in parts] or [chat.Text("")]
    calls = [_invoke_tool(c) for c in message.get("tool_calls", [])]
    if calls:  # a tool-call turn carries no empty text part
        items = [it for it in items if not (isinstance(it, chat.Text) and not it.text)]
    tool_name = message.get("name") if role == "tool" else None
    return chat.OpenAIMessage(
        author=chat.Author(kinds[role], tool_name),
        content=items + calls,
        tool_call_id=message.get("tool_call_id"),
        tool_name=tool_name,
    )


def tinker_messages_to_message_list(messages: Sequence[Message]) -> Any:
    """Messages as a ``MessageList`` (each turn's Messages; an assistant turn ends with ``ModelEndSampling``).

    ``trainable`` is ignored. ``ValueError`` for an unknown role or part, or a ``tool_declare`` message that
    does not hold a JSON list of OpenAI tools.
    """
    chat = _chat()
    return chat.MessageList([part for m in messages for part in _tml_renderers_openai_message(m).to_messages()])


def tinker_messages_to_sft_message_list(messages: Sequence[Message], train_on_what: TrainOnWhat) -> Any:
    """A ``MessageList`` for ``render_for_sft``: assistant turns ``train_on_what`` leaves out get weight 0.

    tml-renderers trains every model Message whose weight is not 0; under ``CUSTOMIZED`` an assistant message
    without ``trainable`` is trained.
    """
    chat = _chat()
    trained = _trained_assistant_indices(messages, train_on_what)
    zero = chat.TrainingMetadata(0.0, False)
    out: list[Any] = []
    for i, message in enumerate(messages):
        turn = _tml_renderers_openai_message(message).to_messages()
        if message["role"] == "assistant" and i not in trained:
            turn = [
                p.copy(message_metadata=chat.MessageMetadata(training_metadata=zero))
                if p.author.kind == chat.AuthorKind.Model
                else p
                for p in turn
            ]
        out += turn
    return chat.MessageList(out)


def _tinker_part(content: Any) -> ContentPart:
    chat = _chat()
    if isinstance(content, (chat.Text, chat.ToolError)):
        return {"type": "text", "text": content.text}
    if isinstance(content, chat.Thinking):
        return {"type": "thinking", "thinking": content.text}
    if isinstance(content, chat.ImagePointer):
        return {"type": "image", "image": content.location}
    if isinstance(content, chat.AudioPointer):
        names: dict[Any, Literal["wav", "mp3", "flac"]] = {v: k for k, v in _audio_formats(chat).items()}  # type: ignore[misc]
        fmt = names[content.format]
        part: AudioPart = {"type": "audio", "audio": content.location, "format": fmt}
        if fmt != "wav" or not content.location.startswith("data:"):  # only an inline WAV carries its own
            part["num_frames"] = content.num_frames
            part["sample_rate"] = content.sample_rate
        return part
    raise ValueError(f"no tinker-cookbook content part for {type(content).__name__}")


def _tool_call(invoke: Any) -> ToolCall:
    if invoke.text is not None:  # tml-renderers' writers refuse a text tool call too
        raise ValueError("a text tool call has no tinker-cookbook form")
    arguments = {arg.name: json.loads(arg.value) for arg in invoke.args}
    return ToolCall(
        id=invoke.tool_call_id, function=ToolCall.FunctionBody(name=invoke.name, arguments=json.dumps(arguments))
    )


def _tinker_message(turn: Any) -> Message:
    chat = _chat()
    if len(turn.content) == 1 and isinstance(turn.content[0], chat.ToolDeclareJson):
        tools = [
            {
                "type": s.type_name,
                "function": {"name": s.name, "description": s.description, "parameters": json.loads(s.parameters)},
            }
            for s in turn.content[0].tool_specs
        ]
        return Message(role="tool_declare", content=json.dumps(tools, separators=(",", ":")))
    roles = {
        chat.AuthorKind.User: "user",
        chat.AuthorKind.Model: "assistant",
        chat.AuthorKind.System: "system",
        chat.AuthorKind.Tool: "tool",
    }
    calls = [_tool_call(c) for c in turn.content if isinstance(c, chat.InvokeTool)]
    parts = [_tinker_part(c) for c in turn.content if not isinstance(c, chat.InvokeTool)]
    text_only = len(parts) == 1 and parts[0]["type"] == "text"
    message = Message(role=roles[turn.author.kind], content=parts[0]["text"] if text_only else parts)  # type: ignore[typeddict-item]
    if calls:
        message["tool_calls"] = calls
    if turn.tool_call_id is not None:
        message["tool_call_id"] = turn.tool_call_id
    if turn.tool_name is not None:
        message["name"] = turn.tool_name
    return message


def message_list_to_tinker_messages(messages: Any) -> list[Message]:
    """A ``MessageList`` back as Messages, one per turn (``OpenAIMessage.from_messages`` groups them).

    The Messages hold what tml-renderers stores: media as data URIs, tool parameters with sorted keys,
    tool-call arguments in ``json.dumps`` form; training weights are not read back. ``ValueError`` for a
    text tool call or content with no tinkerlite part.
    """
    chat = _chat()
    return [_tinker_message(turn) for turn in chat.OpenAIMessage.from_messages(messages.messages)]
