"""Supervised examples: tokens plus a weight per token, following :class:`TrainOnWhat` (as the cookbook).

:class:`SupervisedBuilder` is mixed into :class:`~tinkerlite.renderers.base.Renderer`; it only needs the
renderer's ``render_message`` and generation prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, has_thinking
from tinkerlite.renderers.encoding import chunk, chunk_length, encode_memo
from tinkerlite.renderers.errors import RendererError, _where, warn_drop
from tinkerlite.types import EncodedTextChunk, ModelInput, ModelInputChunk, TensorData

if TYPE_CHECKING:
    from tinkerlite.renderers.content import Role
    from tinkerlite.tokenizers.base import Tokenizer

logger = logging.getLogger("tinkerlite.renderers.base")

__all__ = ["SupervisedBuilder", "TrainOnWhat"]


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


class SupervisedBuilder:
    """``build_supervised_example(s)``: the cookbook's assembly of tokens and weights."""

    if TYPE_CHECKING:
        tokenizer: Tokenizer
        strict: bool
        disables_thinking: bool
        refuses_produced_reasoning: bool

        @property
        def has_extension_property(self) -> bool: ...
        @property
        def _bos_tokens(self) -> list[int]: ...
        def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage: ...
        def _validate(self, messages: Sequence[Message], train_on_what: TrainOnWhat | None) -> list[Message]: ...
        def _prepare_conversation(self, messages: list[Message]) -> list[Message]: ...
        def _last_assistant_turn_start_index(self, messages: Sequence[Message]) -> int: ...
        def _contexts(self, messages: list[Message], turn_start: int) -> list[RenderContext]: ...
        def _generation_prompt(self, messages: list[Message], role: Role, prefill: str | None) -> ModelInput: ...

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
        if train_on_what is TrainOnWhat.CUSTOMIZED:
            for idx, message in enumerate(messages):
                if not isinstance(message.get("trainable"), bool):  # one the format added itself
                    raise RendererError(
                        f"train_on_what=CUSTOMIZED needs 'trainable' on every message, but {type(self).__name__} "
                        f"adds a {message['role']!r} message of its own without it (the cookbook asserts here too)",
                        field=f"messages[{idx}].trainable",
                    )
        pieces: list[tuple[ModelInputChunk, float]] = []
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
        pieces = [(c, w) for c, w in pieces if chunk_length(c)]
        model_input = ModelInput(chunks=[c for c, _ in pieces])
        weights = [w for c, w in pieces for _ in range(chunk_length(c))]
        weights = self._train_after_the_generation_prompt(messages, train_on_what, model_input, weights)
        return model_input, TensorData.from_list(weights, "float32")

    def _check_produced_turn(self, messages: list[Message], train_on_what: TrainOnWhat) -> None:
        """A last assistant message that reasons, where the format cannot keep the reasoning.

        Strict renderers refuse it (in every mode). Otherwise, as the cookbook: formats that drop it
        (``refuses_produced_reasoning``) drop it with one warning; formats whose prompt closes the think
        block render it, and the prefix check below refuses it in the last-turn modes.
        """
        if not (self.disables_thinking or self.refuses_produced_reasoning) or not messages:
            return
        last = messages[-1]
        if last["role"] != "assistant" or not has_thinking(last["content"]):
            return
        if self.strict:
            raise RendererError(
                f"{type(self).__name__} has thinking turned off: its generation prompt closes the think "
                "block, so training on a turn that reasons would teach the model to reason after being "
                "told not to. Use the thinking variant of this renderer or remove the reasoning.",
                field=_where(len(messages) - 1, "content"),
            )
        if self.refuses_produced_reasoning:
            warn_drop(
                self, "produced_reasoning", "has thinking turned off: drops the reasoning of the last assistant message"
            )

    def _train_after_the_generation_prompt(
        self, messages: list[Message], train_on_what: TrainOnWhat, model_input: ModelInput, weights: list[float]
    ) -> list[float]:
        """Zero the weights of everything the generation prompt itself supplies (e.g. a ``<think>`` prefill)."""
        boundary = _first_trained_message_index(messages, train_on_what)
        if boundary is None:
            return weights
        if not all(isinstance(c, EncodedTextChunk) for c in model_input.chunks):
            return weights  # as the cookbook: examples holding images keep their weights as built
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
