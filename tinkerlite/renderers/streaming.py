"""Incremental parsing of sampled tokens into text/thinking deltas, for showing output as it arrives.

Same event sequence as the cookbook's ``parse_response_streaming``: one ``StreamingMessageHeader``, then
``StreamingTextDelta`` / ``StreamingThinkingDelta`` pieces (``<think>`` tags are never shown, even when a
tag arrives split over several tokens), then the complete parsed ``Message``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Union

from tinkerlite.renderers.content import Message
from tinkerlite.renderers.parsing import ParseTermination
from tinkerlite.tokenizers.base import Tokenizer

__all__ = [
    "MessageDelta",
    "ReasoningStreamingParser",
    "StreamingMessageHeader",
    "StreamingParser",
    "StreamingTextDelta",
    "StreamingThinkingDelta",
    "Utf8TokenDecoder",
]

_REPLACEMENT_CHAR = "\ufffd"
_OPEN, _CLOSE = "<think>", "</think>"


@dataclass
class StreamingMessageHeader:
    role: str
    name: str | None = None


@dataclass
class StreamingTextDelta:
    text: str
    content_index: int = 0


@dataclass
class StreamingThinkingDelta:
    thinking: str
    content_index: int = 0


MessageDelta = Union[StreamingMessageHeader, StreamingTextDelta, StreamingThinkingDelta, Message]  # noqa: UP007


@dataclass
class Utf8TokenDecoder:
    """Holds back tokens that end inside a multi-byte character (decoded text ends with U+FFFD)."""

    tokenizer: Tokenizer
    _pending: list[int] = field(init=False, default_factory=list)
    max_trailing_tokens: ClassVar[int] = 8
    """How many trailing tokens may hold one incomplete character (UTF-8 needs at most 4 bytes)."""

    def decode(self, tokens: Sequence[int]) -> str | None:
        """Text that is complete so far, or None while everything is still buffered."""
        self._pending.extend(tokens)
        text = self.tokenizer.decode(self._pending)
        if not text.endswith(_REPLACEMENT_CHAR):
            self._pending = []
            return text
        for keep in range(1, min(len(self._pending), self.max_trailing_tokens) + 1):
            head = self._pending[:-keep]
            if not head:
                break
            text = self.tokenizer.decode(head)
            if not text.endswith(_REPLACEMENT_CHAR):
                self._pending = self._pending[-keep:]
                return text
        return None

    def flush(self) -> str:
        text = self.tokenizer.decode(self._pending) if self._pending else ""
        self._pending = []
        return text

    def reset(self) -> None:
        """Drop buffered tokens."""
        self._pending = []

    def has_pending(self) -> bool:
        return bool(self._pending)


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that could be the start of ``tag`` (held back from display)."""
    for n in range(min(len(text), len(tag) - 1), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


@dataclass
class StreamingParser:
    """Token-by-token parser that shows all decoded text as text deltas (the cookbook's base class).

    One ``StreamingMessageHeader`` on the first decoded text, then ``StreamingTextDelta`` pieces, then the
    complete ``Message`` from ``parse_final_response`` at :meth:`finish`. Subclasses override
    :meth:`_deltas` to split model-specific markup (see :class:`ReasoningStreamingParser`).
    """

    tokenizer: Tokenizer
    end_message_token: int
    parse_final_response: Callable[[list[int]], tuple[Message, ParseTermination]]
    _decoder: Utf8TokenDecoder = field(init=False)
    _text: str = field(init=False, default="")
    _emitted: int = field(init=False, default=0)
    _index: int = field(init=False, default=0)
    _header_sent: bool = field(init=False, default=False)
    _finished: bool = field(init=False, default=False)
    _tokens: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._decoder = Utf8TokenDecoder(self.tokenizer)

    def feed(self, token: int) -> Iterator[MessageDelta]:
        """Feed one sampled token; yields the deltas it completes (nothing after the end token)."""
        if self._finished:
            return
        self._tokens.append(token)
        if token == self.end_message_token:
            self._finished = True
            return
        decoded = self._decoder.decode([token])
        if decoded is None:
            return
        self._text += decoded
        yield from self._header()
        yield from self._deltas(final=False)

    def reset(self) -> None:
        """Start over, for another response."""
        self._decoder.reset()
        self._text, self._emitted, self._index = "", 0, 0
        self._header_sent = self._finished = False
        self._tokens = []

    def finish(self) -> Iterator[MessageDelta]:
        """Flush what is buffered, then yield the complete parsed ``Message``."""
        self._text += self._decoder.flush()
        yield from self._header()
        yield from self._deltas(final=True)
        yield self.parse_final_response(self._tokens)[0]

    def _header(self) -> Iterator[MessageDelta]:
        if not self._header_sent:
            self._header_sent = True
            yield StreamingMessageHeader(role="assistant")

    def _deltas(self, *, final: bool) -> Iterator[MessageDelta]:
        if self._emitted < len(self._text):
            yield StreamingTextDelta(text=self._text[self._emitted :], content_index=self._index)
            self._emitted = len(self._text)


@dataclass
class ReasoningStreamingParser(StreamingParser):
    """Token-by-token parser for formats that write reasoning as ``<think>...</think>``."""

    _in_thinking: bool = field(init=False, default=False)

    def reset(self) -> None:
        """Start over, for another response."""
        super().reset()
        self._in_thinking = False

    def _piece(self, text: str) -> MessageDelta:
        if self._in_thinking:
            return StreamingThinkingDelta(thinking=text, content_index=self._index)
        return StreamingTextDelta(text=text, content_index=self._index)

    def _deltas(self, *, final: bool) -> Iterator[MessageDelta]:
        text = self._text
        while self._emitted < len(text):
            tag = _CLOSE if self._in_thinking else _OPEN
            at = text.find(tag, self._emitted)
            if at == -1:
                end = len(text) if final else len(text) - _partial_tag_suffix(text[self._emitted :], tag)
                if end > self._emitted:
                    yield self._piece(text[self._emitted : end])
                    self._emitted = end
                return
            if at > self._emitted:
                yield self._piece(text[self._emitted : at])
            self._in_thinking = not self._in_thinking
            self._index += 1
            self._emitted = at + len(tag)
