"""The ``Renderer`` base class, and every name the cookbook's ``renderers.base`` exports.

The pieces live by concept -- ``content`` (message and part types), ``tool_calls`` (calls and
declarations), ``parsing``, ``encoding``, ``validation``, ``supervised`` (TrainOnWhat and the weights) --
and are re-exported here, so ``from tinkerlite.renderers.base import X`` works as in the cookbook. The
assembly mirrors tinker-cookbook 0.6.1: each header and output string is encoded separately, BOS is
prepended once with weight 0, and the weights follow :class:`TrainOnWhat`. Formats live in one module
per model family.
"""

from __future__ import annotations

import logging
import pickle
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from tinkerlite.renderers.content import (
    AudioPart,
    Content,
    ContentPart,
    ImagePart,
    Message,
    RenderContext,
    RenderedMessage,
    Role,
    TextPart,
    ThinkingPart,
    content_to_jsonable,
    ensure_list,
    ensure_text,
    format_content_as_string,
    get_text_content,
    has_thinking,
    message_to_jsonable,
    openai_message,
    remove_thinking,
)
from tinkerlite.renderers.encoding import (
    _ENCODE_MEMO,  # noqa: F401 (tests reach the memo here)
    chunk,
    chunk_length,
    encode,
    tokens_weights_from_strings_weights,
)
from tinkerlite.renderers.errors import RendererError, _where, strict_from_env, warn_drop
from tinkerlite.renderers.images import ImageProcessorProtocol, image_to_chunk
from tinkerlite.renderers.parsing import (
    PARSE_FAILURE_DETAIL_MAX_CHARS,
    UNTERMINATED_TOOL_BLOCK_ERROR,
    ParseFailureKind,
    ParseTermination,
    classify_parse_failure,
    detect_unterminated_tool_block,
    parse_content_blocks,
    parse_response_for_stop_token,
    parse_think_blocks,
)
from tinkerlite.renderers.streaming import (
    MessageDelta,
    ReasoningStreamingParser,
    StreamingMessageHeader,
    StreamingParser,
    StreamingTextDelta,
    StreamingThinkingDelta,
    Utf8TokenDecoder,
)
from tinkerlite.renderers.supervised import SupervisedBuilder, TrainOnWhat, _last_user_index
from tinkerlite.renderers.tool_calls import (
    StrictBase,
    ToolCall,
    ToolSpec,
    UnparsedToolCall,
)
from tinkerlite.renderers.validation import _validate_message
from tinkerlite.tokenizers.base import Tokenizer
from tinkerlite.types import ModelInput, ModelInputChunk

logger = logging.getLogger(__name__)

__all__ = [
    "PARSE_FAILURE_DETAIL_MAX_CHARS",
    "UNTERMINATED_TOOL_BLOCK_ERROR",
    "AudioPart",
    "Content",
    "ContentPart",
    "ImagePart",
    "ImageProcessorProtocol",
    "Message",
    "MessageDelta",
    "ParseFailureKind",
    "ParseTermination",
    "RenderContext",
    "RenderedMessage",
    "Renderer",
    "RendererError",
    "Role",
    "StreamingMessageHeader",
    "StreamingParser",
    "StreamingTextDelta",
    "StreamingThinkingDelta",
    "StrictBase",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolSpec",
    "TrainOnWhat",
    "UnparsedToolCall",
    "Utf8TokenDecoder",
    "classify_parse_failure",
    "content_to_jsonable",
    "detect_unterminated_tool_block",
    "ensure_list",
    "ensure_text",
    "format_content_as_string",
    "get_text_content",
    "has_thinking",
    "image_to_chunk",
    "message_to_jsonable",
    "parse_content_blocks",
    "parse_response_for_stop_token",
    "parse_think_blocks",
    "remove_thinking",
    "tokens_weights_from_strings_weights",
]

_UNPICKLE_RENDERER: Any = None
"""``registry._unpickle_renderer``, installed by the registry (base never imports the registry)."""


class Renderer(SupervisedBuilder, ABC):
    """Turns conversations into token prompts (sampling) and token/weight pairs (training) and back.

    Subclasses implement :meth:`render_message`, :meth:`get_stop_sequences` and
    :meth:`parse_response`; the assembly below is shared and matches the cookbook's.
    """

    tokenizer: Tokenizer
    disables_thinking: bool = False
    """The generation prompt closes the think block (a training sequence must then start with that prompt)."""
    refuses_produced_reasoning: bool = False
    """The format drops the reasoning of a last assistant message (warned once; refused when ``strict``)."""
    allowed_roles: frozenset[str] | None = None
    """Roles the format was made for (None: any); only ``strict`` renderers refuse the others."""
    supports_tool_calls: bool = True
    """False where the format has no tool-call syntax: tool calls are dropped (refused when ``strict``)."""
    accepts_images: bool = False
    """Vision-language formats (Qwen3-VL and its descendants, Kimi K2.5/K2.6) render image parts."""
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
            # The cookbook writes any role string and leaves tool-call JSON to the formats that decode it.
            roles = self.allowed_roles if self.strict else None
            _validate_message(
                message, idx, roles, check_tool_arguments=self.strict, accepts_images=self.accepts_images
            )
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
                if self.strict:
                    raise RendererError(
                        f"{type(self).__name__} has no tool-call format; the tool calls would be dropped",
                        field=_where(idx, "tool_calls"),
                    )
                warn_drop(self, "tool_calls", f"has no tool-call format: drops the tool calls (first: messages[{idx}])")
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

    def _validate_family(self, message: Message, idx: int, messages: Sequence[Message]) -> None:
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
        chunks: list[ModelInputChunk] = []
        if self._bos_tokens:
            chunks.append(chunk(self._bos_tokens))
        ctxs = self._contexts(messages, self._last_assistant_turn_start_index(messages))
        for message, ctx in zip(messages, ctxs, strict=True):
            rendered = self.render_message(message, ctx)
            # Empty chunks are dropped: the sampler rejects them with HTTP 400.
            if rendered.header is not None and rendered.header.tokens:
                chunks.append(rendered.header)
            chunks.extend(c for c in rendered.output if chunk_length(c))
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
