"""Message types, the ``Renderer`` base class and the token/weight assembly every chat format shares.

The assembly mirrors tinker-cookbook 0.6.1 (HEAD) exactly: each header and output string is encoded
separately (BPE merges never cross a segment boundary), BOS is prepended once with weight 0, and the
weights follow :class:`TrainOnWhat`. Formats live in one module per model family.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypedDict

from tinkerlite.errors import ValidationError
from tinkerlite.tokenizers.base import Tokenizer
from tinkerlite.types import EncodedTextChunk, ModelInput, TensorData

logger = logging.getLogger(__name__)

__all__ = [
    "AudioPart",
    "Content",
    "ContentPart",
    "ImagePart",
    "Message",
    "ParseFailureKind",
    "ParseTermination",
    "RenderContext",
    "RenderedMessage",
    "Renderer",
    "RendererError",
    "Role",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolSpec",
    "TrainOnWhat",
    "UnparsedToolCall",
    "classify_parse_failure",
    "content_to_jsonable",
    "detect_unterminated_tool_block",
    "ensure_list",
    "ensure_text",
    "format_content_as_string",
    "get_text_content",
    "has_thinking",
    "message_to_jsonable",
    "parse_content_blocks",
    "parse_response_for_stop_token",
    "parse_think_blocks",
    "remove_thinking",
    "tokens_weights_from_strings_weights",
]


STRICT_ENV_VAR = "TINKERLITE_RENDERER_STRICT"
"""Set to 1/true to make every renderer raise where the cookbook drops data (``get_renderer(strict=...)`` wins)."""

_UNPICKLE_RENDERER: Any = None
"""``registry._unpickle_renderer``, installed by the registry (base never imports the registry)."""


def strict_from_env() -> bool:
    return os.environ.get(STRICT_ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


class RendererError(ValidationError):
    """A conversation the chosen renderer cannot render faithfully (the message names index and field)."""


def _where(idx: int | None, key: str) -> str:
    return f"messages[{idx}].{key}" if idx is not None else key


# --------------------------------------------------------------------------------------------------
# Enums. ``str`` mixins rather than StrEnum so Python 3.10 works; values equal the cookbook's.
# --------------------------------------------------------------------------------------------------


class ParseTermination(str, Enum):
    """How a sampled response ended. Always truthy: test ``.is_clean``, never ``if not termination``."""

    STOP_SEQUENCE = "stop_sequence"
    EOS = "eos"
    MALFORMED = "malformed"

    def __str__(self) -> str:
        return self.value

    @property
    def is_clean(self) -> bool:
        return self is not ParseTermination.MALFORMED

    @property
    def is_stop_sequence(self) -> bool:
        return self is ParseTermination.STOP_SEQUENCE


class ParseFailureKind(str, Enum):
    """Broken framing (STRUCTURAL, unrecoverable) vs. unparsable tool content (CONTENT, retryable)."""

    STRUCTURAL = "structural"
    CONTENT = "content"

    def __str__(self) -> str:
        return self.value


class TrainOnWhat(str, Enum):
    """Which tokens of a supervised example carry loss."""

    LAST_ASSISTANT_MESSAGE = "last_assistant_message"
    LAST_ASSISTANT_TURN = "last_assistant_turn"
    ALL_ASSISTANT_MESSAGES = "all_assistant_messages"
    ALL_MESSAGES = "all_messages"
    ALL_TOKENS = "all_tokens"
    ALL_USER_AND_SYSTEM_MESSAGES = "all_user_and_system_messages"
    CUSTOMIZED = "customized"

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------------------------------
# Tool calls
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionBody:
    """Name and JSON-string arguments of a tool call (arguments stay a string, as in OpenAI's API)."""

    name: str
    arguments: str


@dataclass(frozen=True)
class ToolCall:
    """A structured tool invocation; ``ToolCall.FunctionBody`` is kept for cookbook-compatible code."""

    function: FunctionBody
    id: str | None = None
    type: Literal["function"] = "function"

    FunctionBody = FunctionBody

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """The OpenAI dict form (same shape pydantic's ``model_dump`` gives in the cookbook)."""
        return {
            "type": self.type,
            "id": self.id,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }

    @classmethod
    def from_openai(cls, obj: Mapping[str, Any], *, where: str = "tool_call") -> ToolCall:
        """Build from ``{"type": "function", "id": ..., "function": {"name", "arguments"}}``.

        ``arguments`` may be a JSON string or an already-decoded object; a dict is re-encoded with
        ``json.dumps`` (default separators), which is what the cookbook stores after parsing.
        """
        fn = obj.get("function")
        if not isinstance(fn, Mapping):
            raise RendererError("a tool call needs a 'function' object", field=f"{where}.function")
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise RendererError("tool call function name must be a non-empty string", field=f"{where}.name")
        args = fn.get("arguments", "{}")
        if isinstance(args, Mapping):
            args = json.dumps(dict(args))
        if not isinstance(args, str):
            raise RendererError("tool call arguments must be a JSON string or object", field=f"{where}.arguments")
        tc_type = obj.get("type", "function")
        if tc_type != "function":
            raise RendererError(f"unsupported tool call type {tc_type!r}", field=f"{where}.type")
        tc_id = obj.get("id")
        if tc_id is not None and not isinstance(tc_id, str):
            raise RendererError("tool call id must be a string or None", field=f"{where}.id")
        return cls(function=FunctionBody(name=name, arguments=args), id=tc_id)


@dataclass(frozen=True)
class UnparsedToolCall:
    """Model output that looked like a tool call but did not parse; kept for debugging and retries."""

    raw_text: str
    error: str

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"raw_text": self.raw_text, "error": self.error}


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImagePart(TypedDict):
    type: Literal["image"]
    image: Any


class AudioPart(TypedDict):
    type: Literal["audio"]
    audio: Any


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


class ToolSpec(TypedDict):
    """A tool declaration in OpenAI function-calling form."""

    name: str
    description: str
    parameters: dict[str, Any]


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

    output: list[EncodedTextChunk]
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


def as_tool_call(obj: Any, *, where: str = "tool_call") -> ToolCall:
    """A ``ToolCall`` from either a ``ToolCall`` or an OpenAI-style dict."""
    if isinstance(obj, ToolCall):
        return obj
    if isinstance(obj, Mapping):
        return ToolCall.from_openai(obj, where=where)
    raise RendererError(f"expected a ToolCall or an OpenAI tool-call dict, got {type(obj).__name__}", field=where)


def tool_calls_of(message: Message, idx: int | None = None) -> list[ToolCall]:
    """The message's tool calls as ``ToolCall`` objects (empty when absent)."""
    calls = message.get("tool_calls") or []
    return [as_tool_call(tc, where=_where(idx, f"tool_calls[{i}]")) for i, tc in enumerate(calls)]


def tool_call_arguments(tool_call: ToolCall, *, where: str = "tool_call") -> Any:
    """Decoded arguments; malformed JSON is a RendererError naming the call."""
    try:
        return json.loads(tool_call.function.arguments)
    except json.JSONDecodeError as e:
        raise RendererError(
            f"tool call {tool_call.function.name!r} has malformed JSON arguments: {e}", field=f"{where}.arguments"
        ) from None


# --------------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------------

PARSE_FAILURE_DETAIL_MAX_CHARS = 16384
UNTERMINATED_TOOL_BLOCK_ERROR = "unterminated tool block"

_THINK_OR_TOOL_RE = re.compile(r"<think>(.*?)</think>|<tool_call>(.*?)</tool_call>", re.DOTALL)
_THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)


def _parse_tool_call_json(payload: str, raw_text: str) -> ToolCall | UnparsedToolCall:
    try:
        obj = json.loads(payload.strip())
    except json.JSONDecodeError as e:
        return UnparsedToolCall(raw_text=raw_text, error=f"Invalid JSON: {e}")
    if not isinstance(obj, dict):
        return UnparsedToolCall(raw_text=raw_text, error="Tool call is not a JSON object")
    name, arguments, tool_id = obj.get("name"), obj.get("arguments"), obj.get("id")
    if not isinstance(name, str):
        return UnparsedToolCall(raw_text=raw_text, error="Missing or invalid 'name' field")
    if not isinstance(arguments, dict):
        return UnparsedToolCall(raw_text=raw_text, error="Missing or invalid 'arguments' field")
    return ToolCall(
        function=FunctionBody(name=name, arguments=json.dumps(arguments)),
        id=tool_id if isinstance(tool_id, str) else None,
    )


def _split_blocks(content: str, pattern: re.Pattern[str]) -> tuple[list[ContentPart], list[re.Match[str]]]:
    """Text/thinking parts around every match of ``pattern`` (group 1 = thinking); other matches returned."""
    parts: list[ContentPart] = []
    others: list[re.Match[str]] = []
    pos = 0
    for m in pattern.finditer(content):
        if m.start() > pos:
            parts.append(TextPart(type="text", text=content[pos : m.start()]))
        if m.group(1) is not None:
            if m.group(1):
                parts.append(ThinkingPart(type="thinking", thinking=m.group(1)))
        else:
            others.append(m)
        pos = m.end()
    if pos < len(content):
        parts.append(TextPart(type="text", text=content[pos:]))
    return parts, others


def tool_call_from_text(
    name: str, arguments: str, raw_text: str, call_id: str | None = None
) -> ToolCall | UnparsedToolCall:
    """A parsed call when ``arguments`` is valid JSON (kept verbatim), else an UnparsedToolCall saying why."""
    try:
        json.loads(arguments)
    except json.JSONDecodeError as e:
        return UnparsedToolCall(raw_text=raw_text, error=f"Invalid JSON: {e}")
    return ToolCall(function=FunctionBody(name=name, arguments=arguments), id=call_id)


def attach_tool_calls(message: Message, results: Sequence[ToolCall | UnparsedToolCall]) -> None:
    """Put parsed calls in ``tool_calls`` and failures in ``unparsed_tool_calls`` (keys only when non-empty)."""
    calls = [c for c in results if isinstance(c, ToolCall)]
    unparsed = [c for c in results if isinstance(c, UnparsedToolCall)]
    if calls:
        message["tool_calls"] = calls
    if unparsed:
        message["unparsed_tool_calls"] = [*message.get("unparsed_tool_calls", []), *unparsed]


def parse_content_blocks(content: str) -> tuple[list[ContentPart], list[ToolCall | UnparsedToolCall]] | None:
    """Split ``<think>``/``<tool_call>`` blocks out of text, keeping whitespace; None when there are none."""
    if "<think>" not in content and "<tool_call>" not in content:
        return None
    parts, calls = _split_blocks(content, _THINK_OR_TOOL_RE)
    return parts, [_parse_tool_call_json(m.group(2), m.group(0)) for m in calls]


def parse_think_blocks(content: str) -> list[ContentPart] | None:
    """Split ``<think>`` blocks out of text; None when there are none."""
    if "<think>" not in content:
        return None
    return _split_blocks(content, _THINK_RE)[0]


def detect_unterminated_tool_block(content: str, open_marker: str, close_marker: str) -> UnparsedToolCall | None:
    """A tool block opened more often than closed: reported instead of silently becoming text."""
    opens = content.count(open_marker)
    if opens == 0 or opens <= content.count(close_marker):
        return None
    return UnparsedToolCall(
        raw_text=content[content.rfind(open_marker) :][:PARSE_FAILURE_DETAIL_MAX_CHARS],
        error=f"{UNTERMINATED_TOOL_BLOCK_ERROR}: '{open_marker}' opened without a matching '{close_marker}'",
    )


def classify_parse_failure(message: Message, termination: ParseTermination) -> tuple[ParseFailureKind, str] | None:
    """Fold the two failure channels of ``parse_response`` into one verdict (None = clean)."""
    if not termination.is_clean:
        return (
            ParseFailureKind.STRUCTURAL,
            f"response did not terminate cleanly (termination={termination.value}): expected the "
            "renderer's stop signal or EOS, so the message framing is broken",
        )
    unparsed = message.get("unparsed_tool_calls") or []
    if unparsed:
        detail = "\n".join(tc.error for tc in unparsed)
        return ParseFailureKind.CONTENT, detail[:PARSE_FAILURE_DETAIL_MAX_CHARS]
    return None


def parse_response_for_stop_token(
    response: Sequence[int], tokenizer: Tokenizer, stop_token: int
) -> tuple[Message, ParseTermination]:
    """Decode up to the single stop token; none means truncated (MALFORMED), several a sampler bug."""
    count = list(response).count(stop_token)
    if count == 0:
        return Message(role="assistant", content=tokenizer.decode(list(response))), ParseTermination.MALFORMED
    if count == 1:
        head = list(response)[: list(response).index(stop_token)]
        return Message(role="assistant", content=tokenizer.decode(head)), ParseTermination.STOP_SEQUENCE
    raise RendererError(
        f"When parsing response, expected to split into 1 or 2 pieces using stop tokens, but got {count}. "
        "You probably are using the wrong stop tokens when sampling"
    )


def tokens_weights_from_strings_weights(
    strings_weights: Sequence[tuple[str, float]], tokenizer: Tokenizer
) -> tuple[list[int], list[float]]:
    """Encode (text, weight) segments separately; only the first gets the tokenizer's special tokens."""
    tokens: list[int] = []
    weights: list[float] = []
    for i, (text, weight) in enumerate(strings_weights):
        ids = tokenizer.encode(text, add_special_tokens=i == 0)
        tokens.extend(ids)
        weights.extend([float(weight)] * len(ids))
    return tokens, weights


# --------------------------------------------------------------------------------------------------
# Encoding helpers shared by the families
# --------------------------------------------------------------------------------------------------


# While a supervised example is built, segment ids are memoised by text: the example renders the history,
# then the generation prompt it is checked against renders it again (and build_supervised_examples renders
# each prefix once more). Encoding is a pure function of (tokenizer, text, mode), so reuse is exact. The memo
# lives in a ContextVar: per thread and per task, dropped when the outermost build returns.
_EncodeMemo = tuple[object, dict[tuple[str, bool], list[int]]]
_ENCODE_MEMO: ContextVar[_EncodeMemo | None] = ContextVar("tinkerlite_renderer_encode_memo", default=None)


@contextmanager
def encode_memo(tokenizer: Tokenizer) -> Iterator[None]:
    """Memoise :func:`encode`/:func:`encode_literal` for ``tokenizer`` inside the block (nests)."""
    current = _ENCODE_MEMO.get()
    if current is not None and current[0] is tokenizer:
        yield
        return
    token = _ENCODE_MEMO.set((tokenizer, {}))
    try:
        yield
    finally:
        _ENCODE_MEMO.reset(token)


def _memo_for(tokenizer: Tokenizer) -> dict[tuple[str, bool], list[int]] | None:
    current = _ENCODE_MEMO.get()
    return current[1] if current is not None and current[0] is tokenizer else None


def encode(tokenizer: Tokenizer, text: str) -> list[int]:
    """One segment, no BOS/EOS; special-token strings written in the text become control tokens."""
    memo = _memo_for(tokenizer)
    if memo is None:
        return list(tokenizer.encode(text, add_special_tokens=False))
    ids = memo.get((text, False))
    if ids is None:
        ids = memo[(text, False)] = list(tokenizer.encode(text, add_special_tokens=False))
    return list(ids)


def encode_literal(tokenizer: Tokenizer, text: str, special_strings: Sequence[str]) -> list[int]:
    """Encode so that special-token strings inside user text stay plain text (HF ``split_special_tokens``).

    Qwen3 encodes message bodies this way so a literal ``<|im_end|>`` typed by a user cannot end the
    turn. Non-special added tokens such as ``<think>`` are still matched, as in HF.
    """
    if not any(s in text for s in special_strings):
        return encode(tokenizer, text)
    memo = _memo_for(tokenizer)
    hit = None if memo is None else memo.get((text, True))
    if hit is not None:
        return list(hit)
    try:
        ids = list(tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True))
    except TypeError:
        raise RendererError(
            "this text contains a special-token string that must be encoded as plain text, but the "
            f"tokenizer {type(tokenizer).__name__} does not support encode(..., split_special_tokens=True)"
        ) from None
    if memo is not None:
        memo[(text, True)] = ids
        return list(ids)
    return ids


def single_token(tokenizer: Tokenizer, text: str) -> int:
    """The id of a control token, checked to be exactly one token."""
    ids = encode(tokenizer, text)
    if len(ids) != 1:
        raise RendererError(f"expected {text!r} to be a single token in this tokenizer, got {ids}")
    return ids[0]


def chunk(tokens: Sequence[int]) -> EncodedTextChunk:
    return EncodedTextChunk(tokens=list(tokens))


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


# --------------------------------------------------------------------------------------------------
# Validation of caller input
# --------------------------------------------------------------------------------------------------

_PART_FIELDS = {"text": "text", "thinking": "thinking", "image": "image", "audio": "audio"}


def _validate_message(message: Any, idx: int, allowed_roles: frozenset[str] | None) -> None:
    if not isinstance(message, Mapping):
        raise RendererError(f"expected a message dict, got {type(message).__name__}", field=f"messages[{idx}]")
    role = message.get("role")
    if not isinstance(role, str):
        raise RendererError("role must be a string", field=_where(idx, "role"))
    if allowed_roles is not None and role not in allowed_roles:
        raise RendererError(
            f"role {role!r} is not supported by this renderer (supported: {sorted(allowed_roles)})",
            field=_where(idx, "role"),
        )
    if "content" not in message:
        raise RendererError("message has no content", field=_where(idx, "content"))
    content = message["content"]
    if isinstance(content, list):
        for j, part in enumerate(content):
            where = _where(idx, f"content[{j}]")
            if not isinstance(part, Mapping) or part.get("type") not in _PART_FIELDS:
                raise RendererError("content part must be a dict with type text/thinking/image/audio", field=where)
            if part["type"] in ("image", "audio"):
                raise RendererError(
                    f"{part['type']} parts are not supported: the renderers in tinkerlite are text-only",
                    field=where,
                )
            key = _PART_FIELDS[part["type"]]
            if key not in part:
                raise RendererError(f"{part['type']} part has no {key!r} field", field=where)
            if key in ("text", "thinking") and not isinstance(part[key], str):
                raise RendererError(f"{key} must be a string", field=f"{where}.{key}")
    elif not isinstance(content, str):
        raise RendererError("content must be a string or a list of parts", field=_where(idx, "content"))
    if "tool_calls" in message:
        calls = message["tool_calls"]
        if not isinstance(calls, list):
            raise RendererError("tool_calls must be a list", field=_where(idx, "tool_calls"))
        for j, tc in enumerate(calls):
            where = _where(idx, f"tool_calls[{j}]")
            args = tool_call_arguments(as_tool_call(tc, where=where), where=where)
            if not isinstance(args, dict):
                raise RendererError("tool call arguments must be a JSON object", field=f"{where}.arguments")
    for key in ("name", "tool_call_id"):
        if key in message and not isinstance(message[key], str):
            raise RendererError(f"{key} must be a string", field=_where(idx, key))


# --------------------------------------------------------------------------------------------------
# The Renderer
# --------------------------------------------------------------------------------------------------


class Renderer(ABC):
    """Turns conversations into token prompts (sampling) and token/weight pairs (training) and back.

    Subclasses implement :meth:`render_message`, :meth:`get_stop_sequences` and
    :meth:`parse_response`; the assembly below is shared and matches the cookbook's.
    """

    tokenizer: Tokenizer
    disables_thinking: bool = False
    """The generation prompt closes the think block (a training sequence must then start with that prompt)."""
    refuses_produced_reasoning: bool = False
    """A last assistant message that reasons is refused: the format would drop or contradict its reasoning."""
    allowed_roles: frozenset[str] | None = None
    """Roles this format can write; None accepts any."""
    supports_tool_calls: bool = True
    """False where the format has no tool-call syntax: tool calls are then refused, not dropped."""
    text_only_roles: frozenset[str] | None = None
    """Roles whose content must be plain text (a string or one text part); None means every role."""

    _renderer_name: str | None = None
    _model_name: str | None = None
    _has_image_processor: bool = False

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.strict = strict_from_env()

    # ---- interface -------------------------------------------------------------------------------

    @property
    def has_extension_property(self) -> bool:
        """Each successive generation prompt is a token prefix of the next (multi-turn datums can merge)."""
        return False

    @property
    def _bos_tokens(self) -> list[int]:
        return []

    @abstractmethod
    def get_stop_sequences(self) -> list[str] | list[int]: ...

    @abstractmethod
    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage: ...

    @abstractmethod
    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]: ...

    supports_streaming: bool = False
    """Whether :meth:`parse_response_streaming` works (formats with ``<think>`` reasoning and one end token)."""

    @property
    def _end_message_token(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} has no single end-of-message token")

    def _parse_response_for_streaming(self, response: list[int]) -> tuple[Message, ParseTermination]:
        """Like :meth:`parse_response`, but parses the content even when the stop token is missing."""
        return self.parse_response(response)

    def parse_response_streaming(self, response: list[int]) -> Iterator[Any]:
        """Header, then text/thinking deltas as they arrive, then the parsed ``Message`` (see ``streaming``)."""
        if not self.supports_streaming:
            raise NotImplementedError(f"{type(self).__name__} does not support streaming response parsing")
        from tinkerlite.renderers.streaming import ReasoningStreamingParser

        parser = ReasoningStreamingParser(self.tokenizer, self._end_message_token, self._parse_response_for_streaming)
        for token in self._normalize_response_tokens(response):
            yield from parser.feed(token)
        yield from parser.finish()

    def _normalize_response_tokens(self, response: list[int]) -> list[int]:
        """Restore a prefill (e.g. ``<think>``) the sampler never returned, before parsing."""
        return response

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        """OpenAI chat-completions / HF ``apply_chat_template`` form of a message."""
        return openai_message(message, reasoning_field=False)

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        """Messages to put before a conversation so the model knows its tools."""
        raise NotImplementedError(f"{type(self).__name__} does not support tool calling")

    def __reduce__(self) -> tuple[Any, ...]:
        if self._renderer_name is None or self._model_name is None:
            raise pickle.PicklingError(
                f"Cannot pickle {type(self).__name__}: create it with get_renderer(name, tokenizer) from a "
                "tokenizer with a name_or_path, or set _renderer_name and _model_name"
            )
        if _UNPICKLE_RENDERER is None:  # set when tinkerlite.renderers.registry is imported
            raise pickle.PicklingError("tinkerlite.renderers.registry is not imported")
        args = (self._renderer_name, self._model_name, getattr(self, "current_date", None), self.strict)
        return (_UNPICKLE_RENDERER, args)

    # ---- hooks -----------------------------------------------------------------------------------

    def _prepare_conversation(self, messages: list[Message]) -> list[Message]:
        """Messages the format always adds (Kimi's default system, gpt-oss's system prompt)."""
        return messages

    def _validate(self, messages: Sequence[Message], train_on_what: TrainOnWhat | None) -> list[Message]:
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise RendererError("messages must be a list of message dicts", field="messages")
        for idx, message in enumerate(messages):
            _validate_message(message, idx, self.allowed_roles)
            if train_on_what is TrainOnWhat.CUSTOMIZED:
                if not isinstance(message.get("trainable"), bool):
                    raise RendererError(
                        "train_on_what=CUSTOMIZED needs a boolean 'trainable' on every message",
                        field=_where(idx, "trainable"),
                    )
            elif train_on_what is not None and "trainable" in message:
                raise RendererError(
                    f"'trainable' is only allowed with train_on_what=CUSTOMIZED (got {train_on_what.value}); "
                    "remove it or switch to CUSTOMIZED",
                    field=_where(idx, "trainable"),
                )
            if not self.supports_tool_calls and message.get("tool_calls"):
                raise RendererError(
                    f"{type(self).__name__} has no tool-call format; the tool calls would be dropped",
                    field=_where(idx, "tool_calls"),
                )
            self._check_text_only(message, idx)
            self._validate_family(message, idx, messages)
        return list(messages)

    def _check_text_only(self, message: Message, idx: int) -> None:
        roles = self.text_only_roles
        if roles is not None and message["role"] not in roles:
            return
        content = message["content"]
        if isinstance(content, list) and not (len(content) == 1 and content[0]["type"] == "text"):
            raise RendererError(
                f"{type(self).__name__} renders {message['role']!r} messages from text only (a string or one "
                f"text part); got {len(content)} parts",
                field=_where(idx, "content"),
            )

    def _validate_family(self, message: Message, idx: int, messages: Sequence[Message]) -> None:  # noqa: B027
        """Format-specific checks; ``idx`` is the caller's index. Default: none."""

    def _get_generation_suffix(self, role: Role, ctx: RenderContext) -> list[int]:
        """Tokens after the history that open the turn to sample: the header of an empty message."""
        rendered = self.render_message(Message(role=role, content=""), ctx)
        return list(rendered.header.tokens) if rendered.header else []

    def _last_assistant_turn_start_index(self, messages: Sequence[Message]) -> int:
        """First message of the produced turn: the one after the last user message."""
        return _last_user_index(messages) + 1

    def _contexts(self, messages: list[Message], turn_start: int) -> list[RenderContext]:
        last_user = _last_user_index(messages)
        n = len(messages)
        return [
            RenderContext(
                idx=i,
                is_last=i == n - 1,
                prev_message=messages[i - 1] if i > 0 else None,
                next_message=messages[i + 1] if i + 1 < n else None,
                last_user_index=last_user,
                in_last_assistant_turn=i >= turn_start,
            )
            for i in range(n)
        ]

    # ---- sampling --------------------------------------------------------------------------------

    def build_generation_prompt(
        self, messages: list[Message], role: Role = "assistant", prefill: str | None = None
    ) -> ModelInput:
        """Tokens to sample the next ``role`` message from; ``prefill`` is appended as plain text."""
        messages = self._validate(messages, None)
        return self._generation_prompt(self._prepare_conversation(messages), role, prefill)

    def _generation_prompt(self, messages: list[Message], role: Role, prefill: str | None) -> ModelInput:
        chunks: list[EncodedTextChunk] = []
        if self._bos_tokens:
            chunks.append(chunk(self._bos_tokens))
        ctxs = self._contexts(messages, self._last_assistant_turn_start_index(messages))
        for message, ctx in zip(messages, ctxs, strict=True):
            rendered = self.render_message(message, ctx)
            # Empty chunks are dropped: the sampler rejects them with HTTP 400.
            if rendered.header is not None and rendered.header.tokens:
                chunks.append(rendered.header)
            chunks.extend(c for c in rendered.output if c.tokens)
        suffix_ctx = RenderContext(
            idx=len(messages),
            is_last=True,
            prev_message=messages[-1] if messages else None,
            last_user_index=_last_user_index(messages),
            in_last_assistant_turn=True,
        )
        suffix = self._get_generation_suffix(role, suffix_ctx)
        if suffix:
            chunks.append(chunk(suffix))
        if prefill:
            chunks.append(chunk(encode(self.tokenizer, prefill)))
        return ModelInput(chunks=list(chunks))

    # ---- training --------------------------------------------------------------------------------

    def build_supervised_examples(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_TURN
    ) -> list[tuple[ModelInput, TensorData]]:
        """One example when the extension property holds, else one per trained assistant message."""
        with encode_memo(self.tokenizer):
            return self._build_supervised_examples(messages, TrainOnWhat(train_on_what))

    def _build_supervised_examples(
        self, messages: list[Message], train_on_what: TrainOnWhat
    ) -> list[tuple[ModelInput, TensorData]]:
        if self.has_extension_property:
            return [self.build_supervised_example(messages, train_on_what)]
        if train_on_what is TrainOnWhat.LAST_ASSISTANT_MESSAGE:
            candidates = range(len(messages) - 1, len(messages))
        elif train_on_what is TrainOnWhat.LAST_ASSISTANT_TURN:
            candidates = range(self._last_assistant_turn_start_index(messages), len(messages))
        elif train_on_what is TrainOnWhat.ALL_ASSISTANT_MESSAGES:
            candidates = range(len(messages))
        else:
            raise NotImplementedError(
                f"build_supervised_examples cannot split {train_on_what.value} for a renderer without the "
                "extension property: it weights messages that are not turns the model produces"
            )
        return [
            self.build_supervised_example(messages[: i + 1], TrainOnWhat.LAST_ASSISTANT_MESSAGE)
            for i in candidates
            if messages[i]["role"] == "assistant"
        ]

    def build_supervised_example(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    ) -> tuple[ModelInput, TensorData]:
        """Tokens of the whole conversation and a float32 weight per token (1 = trained)."""
        with encode_memo(self.tokenizer):
            return self._build_supervised_example(messages, TrainOnWhat(train_on_what))

    def _build_supervised_example(
        self, messages: list[Message], train_on_what: TrainOnWhat
    ) -> tuple[ModelInput, TensorData]:
        messages = self._validate(messages, train_on_what)
        self._check_produced_turn(messages, train_on_what)
        if train_on_what is TrainOnWhat.ALL_ASSISTANT_MESSAGES and not self.has_extension_property:
            logger.warning(
                "train_on_what=ALL_ASSISTANT_MESSAGES with %s, which lacks the extension property: earlier "
                "assistant messages are trained after a prefix that sampling never shows them. Prefer "
                "build_supervised_examples(...).",
                type(self).__name__,
            )
        messages = self._prepare_conversation(messages)
        pieces: list[tuple[EncodedTextChunk, float]] = []
        if self._bos_tokens:
            pieces.append((chunk(self._bos_tokens), 0.0))
        ctxs = self._contexts(messages, self._last_assistant_turn_start_index(messages[:-1]))
        header_weight = 1.0 if train_on_what is TrainOnWhat.ALL_TOKENS else 0.0
        for message, ctx in zip(messages, ctxs, strict=True):
            rendered = self.render_message(message, ctx)
            if rendered.header is not None:
                pieces.append((rendered.header, header_weight))
            weight = 1.0 if self._output_is_trained(message, ctx, train_on_what) else 0.0
            pieces.extend((c, weight) for c in rendered.output)
            if ctx.is_last and rendered.stop_overlap is not None:
                pieces.append((rendered.stop_overlap, weight))
        pieces = [(c, w) for c, w in pieces if c.tokens]
        model_input = ModelInput(chunks=[c for c, _ in pieces])
        weights = [w for c, w in pieces for _ in range(len(c.tokens))]
        weights = self._train_after_the_generation_prompt(messages, train_on_what, model_input, weights)
        return model_input, TensorData.from_list(weights, "float32")

    def _check_produced_turn(self, messages: list[Message], train_on_what: TrainOnWhat) -> None:
        """A renderer whose prompt closes the think block refuses a last assistant turn that reasoned."""
        if not (self.disables_thinking or self.refuses_produced_reasoning) or not messages:
            return
        last = messages[-1]
        if last["role"] == "assistant" and has_thinking(last["content"]):
            raise RendererError(
                f"{type(self).__name__} has thinking turned off: its generation prompt closes the think "
                "block, so training on a turn that reasons would teach the model to reason after being "
                "told not to. Use the thinking variant of this renderer or remove the reasoning.",
                field=_where(len(messages) - 1, "content"),
            )

    def _train_after_the_generation_prompt(
        self, messages: list[Message], train_on_what: TrainOnWhat, model_input: ModelInput, weights: list[float]
    ) -> list[float]:
        """Zero the weights of everything the generation prompt itself supplies (e.g. a ``<think>`` prefill)."""
        boundary = _first_trained_message_index(messages, train_on_what)
        if boundary is None:
            return weights
        prompt = self._generation_prompt(messages[:boundary], "assistant", None).to_ints()
        if model_input.to_ints()[: len(prompt)] != prompt:
            if self.disables_thinking:
                raise RendererError(
                    f"{type(self).__name__} has thinking turned off: its generation prompt closes the think "
                    "block, but this training sequence does not start with that prompt (the turn reasons, "
                    "or the conversation has no user message)",
                    field=f"messages[{boundary}]",
                )
            return weights
        return [0.0] * len(prompt) + weights[len(prompt) :]

    def _output_is_trained(self, message: Message, ctx: RenderContext, train_on_what: TrainOnWhat) -> bool:
        is_assistant = message["role"] == "assistant"
        if train_on_what is TrainOnWhat.LAST_ASSISTANT_MESSAGE:
            return ctx.is_last and is_assistant
        if train_on_what is TrainOnWhat.LAST_ASSISTANT_TURN:
            return is_assistant and ctx.in_last_assistant_turn
        if train_on_what is TrainOnWhat.ALL_ASSISTANT_MESSAGES:
            return is_assistant
        if train_on_what in (TrainOnWhat.ALL_MESSAGES, TrainOnWhat.ALL_TOKENS):
            return True
        if train_on_what is TrainOnWhat.ALL_USER_AND_SYSTEM_MESSAGES:
            return message["role"] in ("user", "system")
        return bool(message.get("trainable", False))


class EndTokenRenderer(Renderer):
    """A chat format whose assistant turns end in one stop token and may reason in ``<think>`` blocks.

    Subclasses say how to read the decoded body (:meth:`_parse_content`); stop-token handling, streaming
    and OpenAI conversion (reasoning as ``reasoning_content``) are shared.
    """

    supports_streaming = True

    def get_stop_sequences(self) -> list[int]:
        return [self._end_message_token]

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        return self._parse(self._normalize_response_tokens(response), allow_missing_stop=False)

    def _parse_response_for_streaming(self, response: list[int]) -> tuple[Message, ParseTermination]:
        return self._parse(response, allow_missing_stop=True)

    def _parse(self, response: list[int], *, allow_missing_stop: bool) -> tuple[Message, ParseTermination]:
        message, termination = parse_response_for_stop_token(response, self.tokenizer, self._end_message_token)
        if termination.is_clean or allow_missing_stop:
            content = message["content"]
            assert isinstance(content, str)
            self._parse_content(message, content)
        return message, termination

    @abstractmethod
    def _parse_content(self, message: Message, content: str) -> None:
        """Turn the decoded body into content parts and tool calls, in place."""

    def to_openai_message(self, message: Message) -> dict[str, Any]:
        return openai_message(message, reasoning_field=True)


def _last_user_index(messages: Sequence[Message]) -> int:
    return max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1)


def _first_trained_message_index(messages: Sequence[Message], train_on_what: TrainOnWhat) -> int | None:
    """Where the generation prompt of the trained turn ends (only the 'produced turn' modes have one)."""
    if train_on_what is TrainOnWhat.LAST_ASSISTANT_MESSAGE:
        boundary = len(messages) - 1
    elif train_on_what is TrainOnWhat.LAST_ASSISTANT_TURN:
        boundary = _last_user_index(messages) + 1
    else:
        return None
    if not 0 <= boundary < len(messages):
        return None
    return boundary if messages[boundary]["role"] == "assistant" else None
