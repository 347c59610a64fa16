"""Reading sampled tokens back into messages: stop tokens, ``<think>``/``<tool_call>`` blocks, failures."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import Enum

from tinkerlite.renderers.content import ContentPart, Message, TextPart, ThinkingPart
from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.tool_calls import FunctionBody, ToolCall, UnparsedToolCall
from tinkerlite.tokenizers.base import Tokenizer

__all__ = [
    "PARSE_FAILURE_DETAIL_MAX_CHARS",
    "UNTERMINATED_TOOL_BLOCK_ERROR",
    "ParseFailureKind",
    "ParseTermination",
    "classify_parse_failure",
    "detect_unterminated_tool_block",
    "parse_content_blocks",
    "parse_response_for_stop_token",
    "parse_think_blocks",
]

# ``str`` mixins rather than StrEnum so Python 3.10 works; values equal the cookbook's.


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
