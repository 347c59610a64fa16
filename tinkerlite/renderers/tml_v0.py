"""``tml_v0``: the TMLv0 chat format of Thinking Machines' Inkling models, in pure Python.

The cookbook's ``TmlV0Renderer`` adapts the compiled ``tml_renderers.v0.Renderer``; this module is tinkerlite's
own implementation of that format, token-exact with it (goldens: ``tests/golden/make_tml_v0_goldens.py``, made
by the cookbook's renderer itself on the real wheel). Every part is its own message,
``<|message_ROLE|>[name]<|content_KIND|>body<|end_message|>``: text, thinking and tool-error parts, tool calls
as ``<|message_model|>NAME<|content_invoke_tool_json|>{"name":...,"args":{...}}`` (arguments sorted by name,
each value as serde_json writes it), tool declarations as a ``tool_declare`` system message holding sorted
compact JSON under ``<|content_xml|>``. A model turn ends with ``<|content_model_end_sampling|>`` (the stop
token); a ``Thinking effort level: X`` system message follows the leading system messages.

Evidence and limits: the goldens come from tml-renderers **0.2.1**, the newest release on PyPI; the cookbook
pins ``>=0.4.1``, which is not published, so where 0.4.1 changed the v0 format (none is documented; the
cookbook's own tml_v0 code calls the same API, which 0.2.1 has) tinkerlite follows 0.2.1. Image and audio
parts are refused (they need the wheel's media code). The tokenizer is
:class:`tinkerlite.tokenizers.o200k_chat.O200kBaseChatTokenizer` (``get_tokenizer("thinkingmachines/Inkling")``);
Inkling-2-Small's h200k tokenizer exists only in tml-renderers>=0.4.1.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Sequence
from typing import Any

from tinkerlite.renderers.base import Message, Role, TrainOnWhat
from tinkerlite.renderers.tml_renderers_adapter import (
    MODEL,
    SYSTEM,
    TOOL,
    USER,
    TmlMessage,
    TmlRenderersRenderer,
    _check_messages,
    _ensure_model_end_sampling,
    messages_to_sft_tml,
    messages_to_tml,
    serde_json_dumps,
    serde_number,
    serde_roundtrip,
)
from tinkerlite.tokenizer_utils import TmlTokenizer
from tinkerlite.types import ModelInput, TensorData

__all__ = ["DEFAULT_EFFORT", "ParseError", "TmlV0Renderer", "V0Renderer"]

DEFAULT_EFFORT: float = 0.9
"""Effort values must be in [0.0, 1.0)."""

MESSAGE_USER, MESSAGE_MODEL, MESSAGE_SYSTEM, MESSAGE_TOOL = 200000, 200001, 200002, 200003
CONTENT_TEXT, CONTENT_IMAGE, END_SAMPLING, CONTENT_THINKING, END_MESSAGE = 200004, 200005, 200006, 200008, 200010
CONTENT_AUDIO, CONTENT_TOOL_ERROR, CONTENT_XML = 200020, 200022, 200024
INVOKE_TOOL_JSON, INVOKE_TOOL_TEXT = 200049, 200057
_HEADERS = {USER: MESSAGE_USER, MODEL: MESSAGE_MODEL, SYSTEM: MESSAGE_SYSTEM, TOOL: MESSAGE_TOOL}
_KIND_OF_HEADER = {v: k for k, v in _HEADERS.items()}
_CONTENT_TOKENS = {
    "text": CONTENT_TEXT,
    "thinking": CONTENT_THINKING,
    "tool_error": CONTENT_TOOL_ERROR,
    "tool_json": INVOKE_TOOL_JSON,
    "tool_text": INVOKE_TOOL_TEXT,
}
_CONTENT_OF_TOKEN = {v: k for k, v in _CONTENT_TOKENS.items()}
_UNKNOWN_CONTENT = {CONTENT_XML: "xml", CONTENT_IMAGE: "image", CONTENT_AUDIO: "audio_input"}
_SPECIAL_RANGE = range(199998, 200058)


class ParseError(ValueError):
    """The response is not TMLv0 (tml_renderers.v0.ParseError's role; ``kind`` names the failure)."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"Error: {kind}\nDetail: {detail}")


def _validate_effort(effort: float) -> None:
    if not math.isfinite(effort) or not 0.0 <= effort < 1.0:
        raise ValueError(f"thinking effort must be a finite number in [0, 1), got {effort}")


def _effort_text(millieffort: int) -> str:
    """``Thinking effort level: X``: X is ``millieffort / 1000`` rounded to hundredths in float arithmetic
    (``round(m / 1000 * 100)``, half to even, as the wheel computes it), trailing zeros cut."""
    centi = round(millieffort / 1000 * 100)
    if centi <= 0:
        shown = "0"
    elif centi >= 100:
        shown = "1"
    else:
        shown = f"0.{centi:02d}".rstrip("0")
    return f"Thinking effort level: {shown}"


def _insert_effort(messages: list[TmlMessage], millieffort: int) -> list[TmlMessage]:
    """The effort message goes after the leading system messages (a tool declaration is one)."""
    i = 0
    while i < len(messages) and messages[i].kind == SYSTEM:
        i += 1
    return [*messages[:i], TmlMessage(SYSTEM, "effort", millieffort, weight=0.0), *messages[i:]]


def _prepare_sft_input(messages: list[TmlMessage], effort: float) -> list[TmlMessage]:
    """Close model turns with ``ModelEndSampling`` and insert the effort message used for sampling."""
    _validate_effort(effort)
    return _insert_effort(_ensure_model_end_sampling(messages), round(effort * 1000))


class V0Renderer:
    """The TMLv0 engine over an o200k_base_chat tokenizer: render for sampling/SFT and parse responses."""

    def __init__(self, tokenizer: TmlTokenizer) -> None:
        self.tokenizer = tokenizer

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode_ordinary(text)) if text else []

    def _tool_call_body(self, body: Any) -> str:
        name, args, _call_id = body
        rendered = ",".join(f"{json.dumps(k, ensure_ascii=False)}:{serde_roundtrip(v)}" for k, v in sorted(args))
        return '{"name":' + json.dumps(name, ensure_ascii=False) + ',"args":{' + rendered + "}}"

    def render_message(self, m: TmlMessage) -> list[int]:
        if m.content == "end":
            return [END_SAMPLING]
        tokens = [_HEADERS[m.kind]]
        if m.name:
            tokens += self._encode(m.name)
        if m.content == "effort":
            return [*tokens, CONTENT_TEXT, *self._encode(_effort_text(m.body)), END_MESSAGE]
        if m.content == "tool_declare":
            body = serde_json_dumps(m.body, sort_keys=True, plus_exponent=True)
            return [*tokens, CONTENT_XML, *self._encode(body), END_MESSAGE]
        text = self._tool_call_body(m.body) if m.content == "tool_json" else m.body
        return [*tokens, _CONTENT_TOKENS[m.content], *self._encode(text), END_MESSAGE]

    def render_for_completion(self, messages: Sequence[TmlMessage], effort: float | None = None) -> list[int]:
        msgs = list(messages)
        if effort is not None:
            msgs = _insert_effort(msgs, round(effort * 1000))
        return [t for m in msgs for t in self.render_message(m)]

    def render_for_sft(self, messages: Sequence[TmlMessage]) -> list[tuple[list[int], list[float]]]:
        """One example, cut after its last trained token; none when nothing is trained."""
        tokens: list[int] = []
        weights: list[float] = []
        for m in messages:
            toks = self.render_message(m)
            tokens += toks
            weights += [m.weight if m.kind == MODEL else 0.0] * len(toks)
        last = max((i for i, w in enumerate(weights) if w > 0), default=-1)
        if last < 0:
            return []
        return [(tokens[: last + 1], weights[: last + 1])]

    def stop(self) -> list[int]:
        return [END_SAMPLING]

    # ---- parsing ---------------------------------------------------------------------------------

    def parse_tokens(self, tokens: Sequence[int]) -> list[TmlMessage]:
        """Messages in ``tokens``; ``end`` items mark ``ModelEndSampling``. Raises :class:`ParseError`.

        As the wheel's parser: outside a message only headers, content tokens (an implicit model header) and
        ``ModelEndSampling`` count; a header's name runs to the first special token, which is the content
        kind; the body runs to ``<|end_message|>`` (other special tokens in it are text). A stream cut inside a
        body drops that message, unless it is the only one; a stream cut inside a header is an error.
        """
        out: list[TmlMessage] = []
        state, kind, ckind = "idle", MODEL, CONTENT_TEXT
        name_toks: list[int] = []
        body: list[int] = []
        for tok in tokens:
            if state == "content":
                if tok == END_MESSAGE:
                    out.append(self._finish(kind, name_toks, ckind, body))
                    state = "idle"
                else:
                    body.append(tok)
            elif state == "header":
                if tok in _SPECIAL_RANGE:
                    state, ckind, body = "content", tok, []
                else:
                    name_toks.append(tok)
            elif tok in _KIND_OF_HEADER:
                state, kind, name_toks = "header", _KIND_OF_HEADER[tok], []
            elif tok in _CONTENT_OF_TOKEN or tok in _UNKNOWN_CONTENT:
                state, kind, name_toks, ckind, body = "content", MODEL, [], tok, []
            elif tok == END_SAMPLING:
                if not any(m.content != "end" for m in out):
                    raise ParseError("no_content", "Sampling completed without message content")
                out.append(TmlMessage(MODEL, "end"))
        if state == "header":
            raise ParseError("unterminated_structure", "stream ended before the message structure was complete")
        if state == "content":
            if not any(m.content != "end" for m in out):
                raise ParseError("unterminated_content", "stream ended before the message content was complete")
            self._check_partial_utf8(name_toks, body)
        return out

    def _check_partial_utf8(self, name_toks: list[int], body: list[int]) -> None:
        """A cut-off message is dropped, but bytes that can never become UTF-8 already failed the parse."""
        to_bytes = getattr(self.tokenizer, "decode_bytes", None)
        if to_bytes is None:
            return
        try:
            bytes(to_bytes(name_toks)).decode("utf-8")
            codecs.getincrementaldecoder("utf-8")().decode(bytes(to_bytes(body)), final=False)
        except UnicodeDecodeError:
            raise ParseError("utf8_content", "message content is not valid UTF-8") from None

    def _text(self, token_ids: list[int]) -> str:
        """Strict UTF-8, as the wheel's parser (a character cut between tokens fails the parse)."""
        strict = getattr(self.tokenizer, "decode_strict", None)
        if strict is None:
            return self.tokenizer.decode(token_ids)
        try:
            return str(strict(token_ids))
        except UnicodeDecodeError:
            raise ParseError("utf8_content", "message content is not valid UTF-8") from None

    def _finish(self, kind: str, name_toks: list[int], ckind: int, body_toks: list[int]) -> TmlMessage:
        content = _CONTENT_OF_TOKEN.get(ckind)
        if content is None:
            what = _UNKNOWN_CONTENT.get(ckind) or self.tokenizer.decode([ckind])
            raise ParseError("unknown_content_type", f"unknown content type: {what}")
        name = self._text(name_toks) if name_toks else None
        text = self._text(body_toks) if body_toks else ""
        if content != "tool_json":
            return TmlMessage(kind, content, text, name=name)
        return TmlMessage(kind, content, _parse_tool_json(text, name), name=name)


def _reject_constant(name: str) -> Any:
    raise ParseError("json_syntax", f"{name} is not JSON")


def _parse_number(text: str) -> int | float:
    try:
        return serde_number(text)
    except ValueError as e:
        raise ParseError("json_syntax", str(e)) from None


def _parse_tool_json(text: str, header_name: str | None) -> tuple[str, list[tuple[str, str]], None]:
    """``{"name": str, "args": {...}}`` and nothing else; each argument value kept as serde_json writes it."""
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_number, parse_int=_parse_number)
    except json.JSONDecodeError as e:
        raise ParseError("json_syntax", str(e)) from None
    if not isinstance(doc, dict):
        raise ParseError("tool_schema_wrong_type", "tool call should be a dictionary")
    for key in doc:
        if key not in ("name", "args"):
            raise ParseError("tool_schema_unsupported_field", f"unsupported tool-call field `{key}`")
    if "name" not in doc or "args" not in doc:
        raise ParseError("tool_schema_missing_field", "tool call needs `name` and `args`")
    name, args = doc["name"], doc["args"]
    if not isinstance(name, str):
        raise ParseError("tool_schema_wrong_type", "name should be a string")
    if not isinstance(args, dict):
        raise ParseError("tool_schema_wrong_type", "args should be dictionary")
    if header_name and header_name != name:
        raise ParseError(
            "tool_name_mismatch",
            f"tool-call author name `{header_name}` is incompatible with `tool_name` mode for tool `{name}`",
        )
    # Values pass through serde_json (big integers become floats) before Python reads them back.
    return name, [(k, serde_json_dumps(v)) for k, v in args.items()], None


class TmlV0Renderer(TmlRenderersRenderer):
    """Renderer for Inkling models (TMLv0), with reasoning-effort conditioning."""

    renderer_name = "tml_v0"
    _tml_renderer: V0Renderer

    def _build_tml_renderer(self, tml_tokenizer: TmlTokenizer) -> V0Renderer:
        return V0Renderer(tml_tokenizer)

    def _parse_error_types(self) -> tuple[type[Exception], ...]:
        return (ParseError,)

    @property
    def has_extension_property(self) -> bool:
        """TMLv0 frames each message independently: shorter prompts stay token-prefixes of longer ones."""
        return True

    def build_generation_prompt(
        self,
        messages: list[Message],
        role: Role = "assistant",
        prefill: str | None = None,
        effort: float = DEFAULT_EFFORT,
    ) -> ModelInput:
        """A generation prompt with the effort message (``effort`` finite, in ``[0.0, 1.0)``)."""
        self._validate_generation_options(role, prefill)
        _validate_effort(effort)
        tml = messages_to_tml(_check_messages(messages))
        return self._model_input(self._tml_renderer.render_for_completion(tml, effort))

    def build_supervised_examples(
        self,
        messages: list[Message],
        train_on_what: TrainOnWhat = TrainOnWhat.ALL_ASSISTANT_MESSAGES,
        effort: float = DEFAULT_EFFORT,
    ) -> list[tuple[ModelInput, TensorData]]:
        """SFT examples with the same effort message the generation prompt has (so they match sampling)."""
        tml = messages_to_sft_tml(_check_messages(messages), TrainOnWhat(train_on_what))
        return self._render_sft_examples(_prepare_sft_input(tml, effort))

    def build_supervised_example(
        self,
        messages: list[Message],
        train_on_what: TrainOnWhat = TrainOnWhat.ALL_ASSISTANT_MESSAGES,
        effort: float = DEFAULT_EFFORT,
    ) -> tuple[ModelInput, TensorData]:
        return self._single_example(self.build_supervised_examples(messages, train_on_what, effort=effort))
