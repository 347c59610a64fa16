"""Base for the renderers the cookbook backs with the compiled ``tml_renderers`` wheel (``tml_v0``, Kimi K3.1-Pro).

The cookbook converts its messages to ``tml_renderers.chat`` objects (``third_party.tml_renderers_compat``) and
lets the wheel render and parse them. tinkerlite does the same conversion into plain :class:`TmlMessage`
records and hands them to an *engine* (``_build_tml_renderer``): for ``tml_v0`` tinkerlite's own pure-Python
TMLv0 renderer (:mod:`tinkerlite.renderers.tml_v0`); a family with no tinkerlite engine raises one clear error
naming the ``tml-renderers`` release it needs. Behaviour follows the cookbook's adapter: every part is its own
message, a model turn ends with ``ModelEndSampling``, supervised weights come from ``TrainOnWhat`` (four modes),
``parse_response`` never raises (a parse failure is ``MALFORMED`` with the decoded text).

Deliberate differences: no torch (weights are :class:`~tinkerlite.types.TensorData`; the cookbook checks
torch>=2.10 here); native ``tml_renderers.chat`` inputs are refused with a clear error (the cookbook accepts
them, since it always has the wheel); image and audio parts are refused (they need the wheel's media code).
"""

from __future__ import annotations

import abc
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol, TypeAlias

from tinkerlite.renderers.base import (
    Message,
    ParseTermination,
    RenderContext,
    RenderedMessage,
    Renderer,
    Role,
    ToolCall,
    ToolSpec,
    TrainOnWhat,
)
from tinkerlite.renderers.errors import RendererError
from tinkerlite.tokenizer_utils import SupportsTmlTokenizer, TmlTokenizer, Tokenizer
from tinkerlite.types import EncodedTextChunk, ModelInput, TensorData

__all__ = [
    "TmlMessage",
    "TmlRenderInput",
    "TmlRenderersRenderer",
    "TmlTokenizerRequiredError",
    "serde_json_dumps",
]

TmlRenderInput: TypeAlias = "Sequence[Any]"
"""What the cookbook also accepts natively (``tml_renderers.chat`` messages); tinkerlite takes message dicts."""

MODEL, USER, SYSTEM, TOOL = "model", "user", "system", "tool"
_KINDS = {"user": USER, "assistant": MODEL, "system": SYSTEM, "tool": TOOL}


@dataclass(frozen=True)
class TmlMessage:
    """One TML message: an author (kind, optional name) and one content item, with its training weight.

    ``content`` is ``text``/``thinking``/``tool_error`` (``body`` a str), ``tool_json`` (``body`` a
    ``(name, [(arg, value)], call_id)`` tuple), ``tool_text`` (a str), ``tool_declare`` (a list of tool
    specs), ``effort`` (``body`` the effort in thousandths) or ``end`` (ModelEndSampling, no body).
    """

    kind: str
    content: str
    body: Any = None
    name: str | None = None
    weight: float = 1.0


class TmlTokenizerRequiredError(RendererError, TypeError):
    """A tml_renderers-backed renderer was given an ordinary tokenizer (the cookbook raises TypeError)."""


class _Engine(Protocol):
    def render_for_completion(self, messages: Sequence[TmlMessage], effort: float | None = None) -> list[int]: ...

    def render_for_sft(self, messages: Sequence[TmlMessage]) -> list[tuple[list[int], list[float]]]: ...

    def parse_tokens(self, tokens: Sequence[int]) -> list[TmlMessage]: ...

    def stop(self) -> list[int]: ...


# ---- JSON as tml-renderers (serde_json) writes it ------------------------------------------------------


def _serde_float(x: float, plus_exponent: bool = False) -> str:
    """A float as serde_json/ryu prints it: shortest digits, ``1e20``/``1e-7`` style exponents, ``1.0``."""
    if x != x or x in (float("inf"), float("-inf")):
        return "null"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    t = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    k = int(t.exponent)
    n = len(digits)
    kk = n + k  # value = 0.digits * 10**kk
    if k >= 0 and kk <= 16:
        return sign + digits + "0" * k + ".0"
    if 0 < kk <= 16:
        return sign + digits[:kk] + "." + digits[kk:]
    if -5 < kk <= 0:
        return sign + "0." + "0" * (-kk) + digits
    head = digits[0] + ("." + digits[1:] if n > 1 else "")
    exp = kk - 1
    return f"{sign}{head}e{'+' if plus_exponent and exp > 0 else ''}{exp}"


_POW10 = [float(f"1e{i}") for i in range(309)]


def serde_number(text: str) -> int | float:
    """A JSON number literal as serde_json (without ``float_roundtrip``) reads it, for ``json.loads`` hooks.

    Integers that fit u64/i64 stay integers; otherwise the first digits that fit a u64 are the significand,
    further integer digits only scale it, further fraction digits are dropped, and the result is
    ``significand as f64`` times or divided by a power of ten -- which can differ from Python's correctly
    rounded ``float(text)`` in the last bit, as the wheel does. ``-0`` is ``-0.0``. Too large: ValueError.
    """
    positive = not text.startswith("-")
    s = text if positive else text[1:]
    i, n = 0, len(s)
    significand, exponent, overflowed = 0, 0, False
    while i < n and s[i].isdigit():
        if not overflowed and significand * 10 + int(s[i]) > 2**64 - 1:
            overflowed = True
        if overflowed:
            exponent += 1
        else:
            significand = significand * 10 + int(s[i])
        i += 1
    if i == n and not overflowed:
        if positive:
            return significand
        return -significand if 0 < significand <= 2**63 else -float(significand)
    if i < n and s[i] == ".":
        i += 1
        while i < n and s[i].isdigit():
            if not overflowed and significand * 10 + int(s[i]) > 2**64 - 1:
                overflowed = True
            if not overflowed:
                significand = significand * 10 + int(s[i])
                exponent -= 1
            i += 1
    if i < n and s[i] in "eE":
        exp_text = s[i + 1 :]
        exponent += (
            int(exp_text) if len(exp_text.lstrip("+-")) < 10 else (10**9 if not exp_text.startswith("-") else -(10**9))
        )
    f = float(significand)
    while True:
        if abs(exponent) < len(_POW10):
            if exponent >= 0:
                f *= _POW10[exponent]
                if math.isinf(f):
                    raise ValueError(f"number out of range: {text}")
            else:
                f /= _POW10[-exponent]
            break
        if f == 0.0:
            break
        if exponent >= 0:
            raise ValueError(f"number out of range: {text}")
        f /= 1e308
        exponent += 308
    return f if positive else -f


def serde_roundtrip(json_text: str) -> str:
    """``json_text`` read and written back as serde_json does (order kept, numbers as the wheel reads them)."""
    return serde_json_dumps(json.loads(json_text, parse_float=serde_number, parse_int=serde_number))


def serde_json_dumps(value: Any, *, sort_keys: bool = False, plus_exponent: bool = False) -> str:
    """Compact JSON as the wheel writes it: non-ASCII raw, floats as ryu (``1e16``, ``1e-7``) -- in tool
    declarations with a signed exponent (``plus_exponent``: ``1e+16``); ``sort_keys`` sorts every object."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**64:
            return str(value)
        value = float(value)
    if isinstance(value, float):
        return _serde_float(value, plus_exponent)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)

    def dump(v: Any) -> str:
        return serde_json_dumps(v, sort_keys=sort_keys, plus_exponent=plus_exponent)

    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else list(value.items())
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dump(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dump(v) for v in value) + "]"
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def serde_value(value: Any) -> Any:
    """``value`` after a trip through serde_json (numbers read as the wheel reads them)."""
    return json.loads(json.dumps(value), parse_float=serde_number, parse_int=serde_number)


# ---- cookbook messages -> TML messages (tml_renderers_compat) ------------------------------------------


def _declared_tools(message: Message, where: str) -> list[dict[str, Any]]:
    content = message["content"]
    try:
        tools = json.loads(content) if isinstance(content, str) else None
    except json.JSONDecodeError:
        tools = None
    if not isinstance(tools, list) or not all(
        isinstance(t, dict) and isinstance(t.get("function"), dict) for t in tools
    ):
        raise RendererError(
            "a tool_declare message must hold a JSON list of OpenAI tools, as tool_specs_to_openai_tools returns",
            field=f"{where}.content",
        )
    for tool in tools:
        name = tool["function"].get("name")
        if not isinstance(name, str):
            raise RendererError(f"a declared tool name must be a string; got {name!r}", field=f"{where}.content")
    return tools


def _tool_declare(message: Message, where: str) -> TmlMessage:
    specs = []
    for tool in _declared_tools(message, where):
        function = tool["function"]
        parameters = function.get("parameters", {})
        if not isinstance(parameters, dict):
            raise RendererError("a declared tool's parameters must be a dict", field=f"{where}.content")
        type_name, description = tool.get("type"), function.get("description")
        specs.append(
            {
                "description": description if isinstance(description, str) else "",
                "name": function["name"],
                "parameters": serde_value(parameters),
                "type": type_name if isinstance(type_name, str) else "function",
            }
        )
    return TmlMessage(SYSTEM, "tool_declare", specs, name="tool_declare")


def _part(part: dict[str, Any], where: str) -> tuple[str, str]:
    kind = part.get("type")
    if kind == "text":
        return "text", part["text"]
    if kind == "thinking":
        return "thinking", part["thinking"]
    if kind == "tool_error":
        return "tool_error", part["text"]
    if kind in ("image", "image_url", "audio", "input_audio"):
        raise RendererError(
            f"tinkerlite's tml_v0 renders text, thinking and tool parts; {kind!r} parts need tml-renderers' media "
            "code (the cookbook's image/audio path), which tinkerlite does not port",
            field=f"{where}.type",
        )
    raise RendererError(f"unsupported content part type: {kind!r}", field=f"{where}.type")


def _invoke_tool(call: Any, where: str) -> tuple[str, list[tuple[str, str]], str | None]:
    arguments: Any
    if isinstance(call, ToolCall):
        name, arguments, call_id = call.function.name, call.function.arguments, call.id
    else:
        function = dict(call["function"])
        arguments = function.get("arguments")
        arguments = "{}" if arguments is None else arguments
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        name, call_id = function["name"], call.get("id")
    try:
        decoded = json.loads(arguments)
    except json.JSONDecodeError as e:
        raise RendererError(f"tool call {name!r} has malformed JSON arguments: {e}", field=f"{where}.arguments") from e
    if not isinstance(decoded, dict):
        raise RendererError("tool call arguments must decode to a JSON object", field=f"{where}.arguments")
    # Each argument value is its own JSON text, in json.dumps's default spacing (as the cookbook passes it).
    return name, [(k, json.dumps(v)) for k, v in decoded.items()], call_id


def _turn(message: Message, idx: int) -> list[TmlMessage]:
    """One cookbook message as the TML messages of its turn (``OpenAIMessage.to_messages``)."""
    role = message["role"]
    if role == "tool_declare":
        return [_tool_declare(message, f"messages[{idx}]")]
    if role not in _KINDS:
        raise RendererError(f"unsupported role: {role!r}", field=f"messages[{idx}].role")
    kind = _KINDS[role]
    content = message.get("content")
    parts = (
        [("text", content)]
        if isinstance(content, str)
        else [_part(dict(p), f"messages[{idx}].content[{j}]") for j, p in enumerate(content or [])]
    )
    parts = parts or [("text", "")]
    calls = [_invoke_tool(c, f"messages[{idx}].tool_calls[{j}]") for j, c in enumerate(message.get("tool_calls") or [])]
    if calls:
        parts = [p for p in parts if not (p[0] == "text" and not p[1])]
    name = message.get("name") if role == "tool" else None
    out = [TmlMessage(kind, ck, body, name=name) for ck, body in parts]
    out += [TmlMessage(MODEL if kind == MODEL else kind, "tool_json", call, name=call[0]) for call in calls]
    if kind == MODEL:
        out.append(TmlMessage(MODEL, "end"))
    return out


def messages_to_tml(messages: Sequence[Message]) -> list[TmlMessage]:
    """``tinker_messages_to_message_list``: every message's turn, in order."""
    return [m for i, message in enumerate(messages) for m in _turn(message, i)]


def _trained_assistant_indices(messages: Sequence[Message], train_on_what: TrainOnWhat) -> set[int]:
    assistant = {i for i, m in enumerate(messages) if m["role"] == "assistant"}
    if train_on_what == TrainOnWhat.ALL_ASSISTANT_MESSAGES:
        return assistant
    if train_on_what == TrainOnWhat.LAST_ASSISTANT_MESSAGE:
        return {max(assistant)} if assistant else set()
    if train_on_what == TrainOnWhat.LAST_ASSISTANT_TURN:
        turn_start = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=-1) + 1
        return {i for i in assistant if i >= turn_start}
    if train_on_what == TrainOnWhat.CUSTOMIZED:
        return {i for i in assistant if messages[i].get("trainable", True)}
    raise NotImplementedError(
        f"tml-renderers SFT supports {TrainOnWhat.ALL_ASSISTANT_MESSAGES.value}, "
        f"{TrainOnWhat.LAST_ASSISTANT_MESSAGE.value}, {TrainOnWhat.LAST_ASSISTANT_TURN.value}, "
        f"and {TrainOnWhat.CUSTOMIZED.value}; got {train_on_what.value!r}"
    )


def messages_to_sft_tml(messages: Sequence[Message], train_on_what: TrainOnWhat) -> list[TmlMessage]:
    """``tinker_messages_to_sft_message_list``: untrained assistant turns get weight 0 on their model messages."""
    trained = _trained_assistant_indices(messages, train_on_what)
    out: list[TmlMessage] = []
    for i, message in enumerate(messages):
        turn = _turn(message, i)
        if message["role"] == "assistant" and i not in trained:
            turn = [replace(m, weight=0.0) if m.kind == MODEL else m for m in turn]
        out += turn
    return out


def _check_messages(messages: object) -> list[Message]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise RendererError("messages must be a list of message dicts", field="messages")
    out: list[Message] = []
    for i, message in enumerate(messages):
        if type(message).__module__.startswith("tml_renderers"):
            raise RendererError(
                f"native {type(message).__name__} inputs are not supported by tinkerlite: pass message dicts",
                field=f"messages[{i}]",
            )
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise RendererError("each message must be a dict with a string 'role'", field=f"messages[{i}].role")
        content = message.get("content")
        if not (content is None or isinstance(content, (str, list))):
            raise RendererError(
                f"content must be a string or a list of parts, got {type(content).__name__}",
                field=f"messages[{i}].content",
            )
        for j, part in enumerate(content if isinstance(content, list) else []):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise RendererError(
                    "each content part must be a dict with a 'type'", field=f"messages[{i}].content[{j}]"
                )
        out.append(message)  # type: ignore[arg-type]
    return out


# ---- TML messages -> a cookbook message (message_list_to_tinker_messages) ------------------------------


def _turns(parsed: Sequence[TmlMessage]) -> list[list[TmlMessage]]:
    """``OpenAIMessage.from_messages``: consecutive messages of one author kind (a tool result stands alone)."""
    turns: list[list[TmlMessage]] = []
    for m in parsed:
        if turns and turns[-1][0].kind == m.kind and m.kind != TOOL:
            turns[-1].append(m)
        else:
            turns.append([m])
    return turns


def tml_to_message(parsed: Sequence[TmlMessage]) -> Message | None:
    """The last turn of ``parsed`` (no ``end`` items) as a cookbook message; ValueError for a text tool call."""
    role_of = {MODEL: "assistant", USER: "user", SYSTEM: "system", TOOL: "tool"}
    messages: list[Message] = []
    n_calls = 0
    for turn in _turns(parsed):
        parts: list[Any] = []
        calls: list[ToolCall] = []
        for m in turn:
            if m.content == "tool_text":
                raise ValueError("a text tool call has no tinker-cookbook form")
            if m.content == "tool_json":
                name, args, _ = m.body
                arguments = json.dumps({k: json.loads(v) for k, v in args})
                calls.append(
                    ToolCall(id=f"functions.{name}:{n_calls}", function=ToolCall.FunctionBody(name, arguments))
                )
                n_calls += 1
            elif m.content == "thinking":
                parts.append({"type": "thinking", "thinking": m.body})
            else:
                parts.append({"type": "text", "text": m.body})
        content: Any = parts[0]["text"] if len(parts) == 1 and parts[0]["type"] == "text" else parts
        message = Message(role=role_of[turn[0].kind], content=content)
        if calls:
            message["tool_calls"] = calls
        if turn[0].kind == TOOL and turn[0].name is not None:
            message["name"] = turn[0].name
        messages.append(message)
    return messages[-1] if messages else None


def _unwrap_tml_tokenizer(tokenizer: Tokenizer, renderer_class: str) -> TmlTokenizer:
    if isinstance(tokenizer, SupportsTmlTokenizer):
        return tokenizer.tml_tokenizer
    raise TmlTokenizerRequiredError(
        f"{renderer_class} requires the TML tokenizer adapter (a tml_renderers-style tokenizer). Use "
        "tinkerlite.tokenizer_utils.get_tokenizer() with a tml-renderers-backed model name, such as "
        "'thinkingmachines/Inkling'.",
        field="tokenizer",
    )


class TmlRenderersRenderer(Renderer, abc.ABC):
    """Adapts a TML engine to the cookbook ``Renderer`` interface; subclasses build the engine."""

    supports_streaming = False
    renderer_name: str

    def __init__(self, tokenizer: Tokenizer):
        super().__init__(tokenizer)
        self._tml_tokenizer = _unwrap_tml_tokenizer(tokenizer, type(self).__name__)
        self._tml_renderer: _Engine = self._build_tml_renderer(self._tml_tokenizer)

    @abc.abstractmethod
    def _build_tml_renderer(self, tml_tokenizer: TmlTokenizer) -> Any: ...

    @abc.abstractmethod
    def _parse_error_types(self) -> tuple[type[Exception], ...]: ...

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        raise NotImplementedError(f"{type(self).__name__} renders whole conversations through tml_renderers")

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the tokenizer itself: tml models' tokenizers do not come from the hub loader.
        return (_rebuild_renderer, (self._renderer_name or self.renderer_name, self.tokenizer, self.strict))

    def _validate_generation_options(self, role: Role, prefill: str | None) -> None:
        if role != "assistant":
            raise NotImplementedError(f"{self.renderer_name} only supports assistant generation")
        if prefill is not None:
            raise NotImplementedError(
                f"{self.renderer_name} sampling does not accept partial assistant messages. "
                "Pass complete messages and let the model start a new assistant response."
            )

    @staticmethod
    def _model_input(tokens: list[int]) -> ModelInput:
        return ModelInput(chunks=[EncodedTextChunk(tokens=tokens)] if tokens else [])

    def build_generation_prompt(
        self, messages: list[Message], role: Role = "assistant", prefill: str | None = None
    ) -> ModelInput:
        self._validate_generation_options(role, prefill)
        tml = messages_to_tml(_check_messages(messages))
        return self._model_input(self._tml_renderer.render_for_completion(tml))

    def _render_sft_examples(self, tml: list[TmlMessage]) -> list[tuple[ModelInput, TensorData]]:
        return [
            (self._model_input(tokens), TensorData.from_list(weights, "float32"))
            for tokens, weights in self._tml_renderer.render_for_sft(tml)
        ]

    def build_supervised_examples(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_TURN
    ) -> list[tuple[ModelInput, TensorData]]:
        tml = messages_to_sft_tml(_check_messages(messages), TrainOnWhat(train_on_what))
        return self._render_sft_examples(_ensure_model_end_sampling(tml))

    def build_supervised_example(
        self, messages: list[Message], train_on_what: TrainOnWhat = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    ) -> tuple[ModelInput, TensorData]:
        return self._single_example(self.build_supervised_examples(messages, train_on_what))

    def _single_example(self, examples: list[tuple[ModelInput, TensorData]]) -> tuple[ModelInput, TensorData]:
        if len(examples) != 1:
            raise NotImplementedError(
                f"{self.renderer_name} produced multiple SFT examples; use build_supervised_examples"
            )
        return examples[0]

    def get_stop_sequences(self) -> list[int]:
        return list(self._tml_renderer.stop())

    def create_conversation_prefix_with_tools(self, tools: list[ToolSpec], system_prompt: str = "") -> list[Message]:
        prefix: list[Message] = []
        if system_prompt:
            prefix.append(Message(role="system", content=system_prompt))
        if tools:
            openai_tools = [
                {
                    "type": "function",
                    "function": {"name": t["name"], "description": t["description"], "parameters": t["parameters"]},
                }
                for t in tools
            ]
            prefix.append(Message(role="tool_declare", content=json.dumps(openai_tools, separators=(",", ":"))))
        return prefix

    def _decode_or_empty(self, response: list[int]) -> str:
        try:
            decoded = self.tokenizer.decode(response)
        except Exception:
            return ""
        return decoded if isinstance(decoded, str) else "".join(decoded)

    def _response_stopped(self, response: list[int], saw_end: bool) -> bool:
        """Whether the model ended its turn (the parser saw ``ModelEndSampling``), rather than being cut off."""
        return saw_end

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        try:
            parsed = self._tml_renderer.parse_tokens(response)
        except self._parse_error_types():
            return Message(role="assistant", content=self._decode_or_empty(response)), ParseTermination.MALFORMED
        content_messages = [m for m in parsed if m.content != "end"]
        saw_end = len(content_messages) != len(parsed)
        termination = (
            ParseTermination.STOP_SEQUENCE if self._response_stopped(response, saw_end) else ParseTermination.MALFORMED
        )
        try:
            message = tml_to_message(content_messages) if content_messages else None
        except ValueError:
            return Message(role="assistant", content=self._decode_or_empty(response)), ParseTermination.MALFORMED
        if message is None:
            message = Message(role="assistant", content=self._decode_or_empty(response))
        return message, termination


def _rebuild_renderer(name: str, tokenizer: Any, strict: bool) -> Renderer:
    from tinkerlite.renderers.registry import make_renderer

    return make_renderer(name, tokenizer, strict=strict)


def _ensure_model_end_sampling(messages: list[TmlMessage]) -> list[TmlMessage]:
    """Close every run of model messages with ``ModelEndSampling`` (idempotent; the weight is the run's)."""
    out: list[TmlMessage] = []
    for i, m in enumerate(messages):
        out.append(m)
        if m.kind != MODEL or m.content == "end":
            continue
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        if nxt is None or nxt.kind != MODEL:
            out.append(TmlMessage(MODEL, "end", weight=m.weight))
    return out
