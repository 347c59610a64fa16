"""``Role: content`` format for base (non-chat) models."""

from __future__ import annotations

import logging

from tinkerlite.renderers.base import Renderer
from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, ensure_text
from tinkerlite.renderers.encoding import chunk, encode
from tinkerlite.renderers.parsing import ParseTermination
from tinkerlite.renderers.tool_calls import ToolSpec
from tinkerlite.types import EncodedTextChunk, ModelInputChunk

logger = logging.getLogger(__name__)

# Named once so render_message and parse_response stay inverses of each other.
_CONTENT_PREFIX = " "
_CONTENT_SUFFIX = "\n\n"
_STOP = "\n\nUser:"


class RoleColonRenderer(Renderer):
    """``System: ...\\n\\nUser: ...\\n\\nAssistant: ...`` with the string stop ``\\n\\nUser:``.

    An assistant output ends ``\\n\\n``; the ``User:`` that completes the stop sequence is the
    ``stop_overlap``, added only after the last message of a supervised example.

    For a last message that is *not* from the assistant the cookbook appends the placeholder text
    ``<UNUSED>`` as its stop overlap (it shows up when a supervised example ends on a user/system
    message); so does tinkerlite, except in ``strict`` mode, which appends nothing there.
    """

    supports_tool_calls = False
    allowed_roles = frozenset({"system", "user", "assistant"})

    @property
    def has_extension_property(self) -> bool:
        return True

    @property
    def _bos_tokens(self) -> list[int]:
        bos = self.tokenizer.bos_token
        return encode(self.tokenizer, bos) if bos else []

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        text = ensure_text(message["content"])
        header = chunk(encode(self.tokenizer, message["role"].capitalize() + ":"))
        output: list[ModelInputChunk] = [chunk(encode(self.tokenizer, _CONTENT_PREFIX + text + _CONTENT_SUFFIX))]
        if message["role"] == "assistant":
            overlap: EncodedTextChunk | None = chunk(encode(self.tokenizer, "User:"))
        else:
            # The cookbook's placeholder, which shows up when an example ends on a non-assistant message.
            overlap = None if self.strict else chunk(encode(self.tokenizer, "<UNUSED>"))
        return RenderedMessage(header=header, output=output, stop_overlap=overlap)

    def get_stop_sequences(self) -> list[str]:
        return [_STOP]

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        """STOP_SEQUENCE on ``\\n\\nUser:``; EOS when only EOS ended it; MALFORMED otherwise."""
        eos = self.tokenizer.eos_token_id
        ended_with_eos = bool(response) and eos is not None and response[-1] == eos
        if ended_with_eos:
            response = response[:-1]
        text = self.tokenizer.decode(list(response))
        pieces = text.split(_STOP)
        content = pieces[0].removeprefix(_CONTENT_PREFIX).removesuffix(_CONTENT_SUFFIX)
        message = Message(role="assistant", content=content)
        if len(pieces) == 1:
            return message, ParseTermination.EOS if ended_with_eos else ParseTermination.MALFORMED
        if len(pieces) == 2:
            return message, ParseTermination.MALFORMED if ended_with_eos else ParseTermination.STOP_SEQUENCE
        logger.warning("RoleColonRenderer saw %d stop delimiters; returning MALFORMED", len(pieces) - 1)
        return message, ParseTermination.MALFORMED

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        raise NotImplementedError("RoleColonRenderer does not support tool calling")
