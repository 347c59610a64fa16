"""``ForwardBackwardRequest`` <-> protobuf bytes, byte-for-byte as the official SDK writes it.

The client encodes (``POST /api/v1/forward_backward`` is protobuf-only since SDK 0.25); the local server
decodes. Fields are written in field-number order and map entries in insertion order, which is what
upb does for every field (upb's map order is hash order, randomised per process, so the official bytes
are only reproducible up to map-entry order when a map has two or more entries).

Schema (``package tinker_public``)::

    ForwardBackwardRequest { 1 model_id: string; 2 seq_id: int32; 3 data: repeated Datum;
      4 loss_fn: string; 5 loss_fn_config: map<string,double>; 6 forward_only: bool;
      7 loss_fn_config_v2: map<string, LossConfigValue{oneof 1 number: double | 2 text: string}> }
    Datum { 1 model_input: repeated Chunk; 2 loss_fn_inputs: map<string, Tensor>;
      3 model_input_spans, 4 loss_fn_input_spans: repeated ProvenanceSpan }
    Chunk { oneof 1 encoded_text{1 tokens: int32 LE bytes} | 2 image{1 data; 2 format; optional 3
      expected_tokens} | 3 dmel{1 dmel} }
    ProvenanceSpan { oneof 1 prompt_tokens | 2 sampled_tokens: {1 sequence_id; 2 offset; 3 length} }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..backend._bytes import array_from_le, le_view
from ..errors import ProtocolError, ValidationError
from ..types import (
    Datum,
    DmelChunk,
    EncodedTextChunk,
    ImageAssetPointerChunk,
    ImageChunk,
    ModelInput,
    ModelInputChunk,
    PromptProvenanceSpan,
    SampledProvenanceSpan,
    TensorData,
)
from .body import Body
from .protobuf import (
    WT_I64,
    WT_LEN,
    WT_VARINT,
    Writer,
    decode_double,
    decode_string_double_entry,
    encode_varint,
    expect_wire_type,
    iter_fields,
    to_int32,
    to_int64,
    utf8,
)
from .tensor_proto import build, decode_tensor, encode_tensor

__all__ = [
    "ForwardBackwardRequestMsg",
    "decode_forward_backward_request",
    "encode_forward_backward_body",
    "encode_forward_backward_request",
]

ConfigValue = float | str
Span = PromptProvenanceSpan | SampledProvenanceSpan


@dataclass(frozen=True)
class ForwardBackwardRequestMsg:
    """A decoded request, for the server. ``loss_fn_config`` prefers the v2 map when it is present."""

    model_id: str
    seq_id: int
    data: list[Datum]
    loss_fn: str
    loss_fn_config: dict[str, ConfigValue] = field(default_factory=dict)
    forward_only: bool = False


# ----------------------------------------------------------------------------------------------------
# encoding


def encode_forward_backward_request(
    data: Sequence[Datum],
    loss_fn: str,
    *,
    model_id: str,
    seq_id: int | None,
    loss_fn_config: Mapping[str, float | int | str] | None = None,
    forward_only: bool = False,
    version: Literal["0.38", "0.25"] = "0.38",
) -> bytes:
    """Request body bytes. ``version="0.25"`` writes the config only into field 5, as SDK 0.25 did."""
    return _request_writer(data, loss_fn, model_id, seq_id, loss_fn_config, forward_only, version).getvalue()


def encode_forward_backward_body(
    data: Sequence[Datum],
    loss_fn: str,
    *,
    model_id: str,
    seq_id: int | None,
    loss_fn_config: Mapping[str, float | int | str] | None = None,
    forward_only: bool = False,
    version: Literal["0.38", "0.25"] = "0.38",
) -> Body:
    """The same request as :func:`encode_forward_backward_request`, as pieces for the transport: the
    tensor and token buffers are referenced, not joined (``body.tobytes()`` is the bytes, identical)."""
    return Body(_request_writer(data, loss_fn, model_id, seq_id, loss_fn_config, forward_only, version).parts)


def _request_writer(
    data: Sequence[Datum],
    loss_fn: str,
    model_id: str,
    seq_id: int | None,
    loss_fn_config: Mapping[str, float | int | str] | None,
    forward_only: bool,
    version: str,
) -> Writer:
    if version not in ("0.38", "0.25"):
        raise ValidationError(f"version must be '0.38' or '0.25', got {version!r}", field="version")
    w = Writer()
    if model_id:
        w.string(1, model_id)
    # seq_id: the SDK sends 0 for a missing one (the server rejects it); int32 on the wire.
    sid = seq_id or 0
    if not -(2**31) <= sid < 2**31:
        raise ValidationError(f"{sid} does not fit in int32", field="seq_id")
    if sid:
        w.varint(2, sid)
    for i, datum in enumerate(data):
        w.message(3, _encode_datum(datum, f"data[{i}]"))
    if loss_fn:
        w.string(4, loss_fn)
    v1: list[tuple[str, float]] = []
    v2: list[tuple[str, ConfigValue]] = []
    for key, value in (loss_fn_config or {}).items():
        if not isinstance(key, str):
            raise ValidationError(f"keys must be strings, got {key!r}", field="loss_fn_config")
        if isinstance(value, str):
            if version == "0.25":
                raise ValidationError(
                    "string values need loss_fn_config_v2, which SDK 0.25 servers do not read",
                    field=f"loss_fn_config[{key!r}]",
                )
            v2.append((key, value))
        elif isinstance(value, (int, float)):
            v1.append((key, float(value)))
            v2.append((key, float(value)))
        else:
            raise ValidationError(
                f"must be a number or a string, got {type(value).__name__}", field=f"loss_fn_config[{key!r}]"
            )
    for key, num in v1:
        entry = Writer()
        entry.string(1, key)
        entry.double(2, num)
        w.message(5, entry)
    if forward_only:
        w.varint(6, 1)
    if version == "0.38":
        for key, value in v2:
            cv = Writer()
            if isinstance(value, str):
                cv.string(2, value)
            else:
                cv.double(1, value)
            entry = Writer()
            entry.string(1, key)
            entry.message(2, cv)
            w.message(7, entry)
    return w


def _encode_datum(datum: Datum, where: str) -> Writer:
    if not isinstance(datum, Datum):
        raise ValidationError(f"expected a Datum, got {type(datum).__name__}", field=where)
    w = Writer()
    parts = w.parts
    for j, chunk in enumerate(datum.model_input.chunks):
        if type(chunk) is EncodedTextChunk:
            # Datum.1 { Chunk.1 encoded_text { 1 tokens } } framed in one piece; the tokens are not copied.
            toks = le_view(chunk.packed)
            n = len(toks)
            text = b"\x0a" + encode_varint(n) if n else b""
            arm = b"\x0a" + encode_varint(len(text) + n) + text
            head = b"\x0a" + encode_varint(len(arm) + n) + arm
            parts.append(head)
            if n:
                parts.append(toks)
            w.size += len(head) + n
        else:
            w.message(1, _encode_chunk(chunk, f"{where}.model_input.chunks[{j}]"))
    for name, td in datum.loss_fn_inputs.items():
        # Datum.2 map entry { 1 key; 2 Tensor }, its framing in one piece.
        tensor = encode_tensor(td, f"{where}.loss_fn_inputs[{name!r}]")
        key = name.encode("utf-8")
        entry = b"\x0a" + encode_varint(len(key)) + key + b"\x12" + encode_varint(tensor.size)
        head = b"\x12" + encode_varint(len(entry) + tensor.size) + entry
        parts.append(head)
        parts += tensor.parts
        w.size += len(head) + tensor.size
    for fn, spans in ((3, datum.model_input_spans), (4, datum.loss_fn_input_spans)):
        for span in spans or ():
            w.message(fn, _encode_span(span))
    return w


def _encode_chunk(chunk: ModelInputChunk, where: str) -> Writer:
    w = Writer()
    inner = Writer()
    if isinstance(chunk, EncodedTextChunk):
        toks = le_view(chunk.packed)  # the chunk's int32 array, checked when it was made
        if len(toks):
            inner.bytes_field(1, toks)
        w.message(1, inner)
    elif isinstance(chunk, ImageChunk):
        if chunk.data:
            inner.bytes_field(1, chunk.data)
        if chunk.format:
            inner.string(2, chunk.format)
        if chunk.expected_tokens is not None:
            inner.varint(3, chunk.expected_tokens)
        w.message(2, inner)
    elif isinstance(chunk, DmelChunk):
        if chunk.dmel:
            inner.bytes_field(1, chunk.dmel)
        w.message(3, inner)
    elif isinstance(chunk, ImageAssetPointerChunk):
        raise ValidationError(
            "an image_asset_pointer chunk cannot be sent in forward_backward (the protobuf request has no "
            "field for it); send the image bytes as an ImageChunk instead",
            field=where,
        )
    else:
        raise ValidationError(f"unsupported chunk type {type(chunk).__name__}", field=where)
    return w


def _encode_span(span: Span) -> Writer:
    arm = Writer()
    if span.sequence_id:
        arm.string(1, span.sequence_id)
    if span.offset:
        arm.varint(2, span.offset)
    if span.length:
        arm.varint(3, span.length)
    w = Writer()
    w.message(2 if isinstance(span, SampledProvenanceSpan) else 1, arm)
    return w


# ----------------------------------------------------------------------------------------------------
# decoding


def decode_forward_backward_request(body: bytes | bytearray | memoryview) -> ForwardBackwardRequestMsg:
    """Parse a request body; any malformation is a :class:`ProtocolError`."""
    view = memoryview(body).cast("B") if isinstance(body, memoryview) else memoryview(body)
    model_id = loss_fn = ""
    seq_id = 0
    forward_only = False
    data: list[Datum] = []
    v1: dict[str, ConfigValue] = {}
    v2: dict[str, ConfigValue] = {}
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type("ForwardBackwardRequest.model_id", wt, WT_LEN)
            assert isinstance(val, memoryview)
            model_id = utf8(val, "ForwardBackwardRequest.model_id")
        elif fn == 2:
            expect_wire_type("ForwardBackwardRequest.seq_id", wt, WT_VARINT)
            assert isinstance(val, int)
            seq_id = to_int32(val)
        elif fn == 3:
            expect_wire_type("ForwardBackwardRequest.data", wt, WT_LEN)
            assert isinstance(val, memoryview)
            data.append(_decode_datum(val, f"data[{len(data)}]"))
        elif fn == 4:
            expect_wire_type("ForwardBackwardRequest.loss_fn", wt, WT_LEN)
            assert isinstance(val, memoryview)
            loss_fn = utf8(val, "ForwardBackwardRequest.loss_fn")
        elif fn == 5:
            expect_wire_type("ForwardBackwardRequest.loss_fn_config", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key, num = decode_string_double_entry(val, "loss_fn_config")
            v1[key] = num
        elif fn == 6:
            expect_wire_type("ForwardBackwardRequest.forward_only", wt, WT_VARINT)
            forward_only = bool(val)
        elif fn == 7:
            expect_wire_type("ForwardBackwardRequest.loss_fn_config_v2", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key, value = _decode_v2_entry(val)
            v2[key] = value
    return ForwardBackwardRequestMsg(
        model_id=model_id,
        seq_id=seq_id,
        data=data,
        loss_fn=loss_fn,
        loss_fn_config=v2 if v2 else v1,
        forward_only=forward_only,
    )


def _decode_v2_entry(view: memoryview) -> tuple[str, ConfigValue]:
    key = ""
    value: memoryview | None = None
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type("loss_fn_config_v2 key", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key = utf8(val, "loss_fn_config_v2 key")
        elif fn == 2:
            expect_wire_type(f"loss_fn_config_v2[{key!r}]", wt, WT_LEN)
            assert isinstance(val, memoryview)
            value = val
    result: ConfigValue | None = None
    for fn, wt, val in iter_fields(value if value is not None else memoryview(b"")):
        if fn == 1:
            expect_wire_type(f"loss_fn_config_v2[{key!r}].number", wt, WT_I64)
            assert isinstance(val, int)
            result = decode_double(val)
        elif fn == 2:
            expect_wire_type(f"loss_fn_config_v2[{key!r}].text", wt, WT_LEN)
            assert isinstance(val, memoryview)
            result = utf8(val, f"loss_fn_config_v2[{key!r}].text")
    if result is None:
        raise ProtocolError(f"loss_fn_config_v2[{key!r}] has neither a number nor a text value")
    return key, result


def _decode_datum(view: memoryview, where: str) -> Datum:
    chunks: list[ModelInputChunk] = []
    inputs: dict[str, TensorData] = {}
    spans: dict[int, list[Span]] = {3: [], 4: []}
    seen_spans = False
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type(f"{where}.model_input", wt, WT_LEN)
            assert isinstance(val, memoryview)
            chunks.append(_decode_chunk(val, f"{where}.model_input[{len(chunks)}]"))
        elif fn == 2:
            expect_wire_type(f"{where}.loss_fn_inputs", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key = ""
            tensor: memoryview | None = None
            for efn, ewt, eval_ in iter_fields(val):
                if efn == 1:
                    expect_wire_type(f"{where}.loss_fn_inputs key", ewt, WT_LEN)
                    assert isinstance(eval_, memoryview)
                    key = utf8(eval_, f"{where}.loss_fn_inputs key")
                elif efn == 2:
                    expect_wire_type(f"{where}.loss_fn_inputs[{key!r}]", ewt, WT_LEN)
                    assert isinstance(eval_, memoryview)
                    tensor = eval_
            inputs[key] = decode_tensor(
                tensor if tensor is not None else memoryview(b""), f"{where}.loss_fn_inputs[{key!r}]"
            )
        elif fn in (3, 4):
            name = "model_input_spans" if fn == 3 else "loss_fn_input_spans"
            expect_wire_type(f"{where}.{name}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            seen_spans = True
            spans[fn].append(_decode_span(val, f"{where}.{name}[{len(spans[fn])}]"))
    kwargs = {}
    if seen_spans:  # proto3 cannot tell an empty span list from none; both lists travel together
        kwargs = {"model_input_spans": spans[3], "loss_fn_input_spans": spans[4]}
    return build(where, Datum, build(where, ModelInput, chunks), inputs, **kwargs)


def _decode_chunk(view: memoryview, where: str) -> ModelInputChunk:
    kind = 0
    body = memoryview(b"")
    for fn, wt, val in iter_fields(view):
        if fn in (1, 2, 3):
            expect_wire_type(f"{where} (chunk arm {fn})", wt, WT_LEN)
            assert isinstance(val, memoryview)
            kind, body = fn, val  # oneof: the last arm on the wire wins
    if kind == 0:
        raise ProtocolError(f"{where}: chunk has none of encoded_text, image, dmel")
    if kind == 1:
        toks = memoryview(b"")
        for fn, wt, val in iter_fields(body):
            if fn == 1:
                expect_wire_type(f"{where}.encoded_text.tokens", wt, WT_LEN)
                assert isinstance(val, memoryview)
                toks = val
        if len(toks) % 4:
            raise ProtocolError(f"{where}.encoded_text.tokens: {len(toks)} bytes is not a whole number of int32")
        return build(where, EncodedTextChunk, array_from_le(toks, "int32"))
    if kind == 2:
        data = b""
        fmt = ""
        expected: int | None = None
        for fn, wt, val in iter_fields(body):
            if fn == 1:
                expect_wire_type(f"{where}.image.data", wt, WT_LEN)
                assert isinstance(val, memoryview)
                data = bytes(val)
            elif fn == 2:
                expect_wire_type(f"{where}.image.format", wt, WT_LEN)
                assert isinstance(val, memoryview)
                fmt = utf8(val, f"{where}.image.format")
            elif fn == 3:
                expect_wire_type(f"{where}.image.expected_tokens", wt, WT_VARINT)
                assert isinstance(val, int)
                expected = to_int32(val)
        return build(where, ImageChunk, data, fmt, expected)
    dmel = b""
    for fn, wt, val in iter_fields(body):
        if fn == 1:
            expect_wire_type(f"{where}.dmel.dmel", wt, WT_LEN)
            assert isinstance(val, memoryview)
            dmel = bytes(val)
    return build(where, DmelChunk, dmel)


def _decode_span(view: memoryview, where: str) -> Span:
    kind = 0
    body = memoryview(b"")
    for fn, wt, val in iter_fields(view):
        if fn in (1, 2):
            expect_wire_type(f"{where} (span arm {fn})", wt, WT_LEN)
            assert isinstance(val, memoryview)
            kind, body = fn, val
    if kind == 0:
        raise ProtocolError(f"{where}: span has neither prompt_tokens nor sampled_tokens")
    sequence_id = ""
    offset = length = 0
    for fn, wt, val in iter_fields(body):
        if fn == 1:
            expect_wire_type(f"{where}.sequence_id", wt, WT_LEN)
            assert isinstance(val, memoryview)
            sequence_id = utf8(val, f"{where}.sequence_id")
        elif fn in (2, 3):
            expect_wire_type(f"{where} field {fn}", wt, WT_VARINT)
            assert isinstance(val, int)
            if fn == 2:
                offset = to_int64(val)
            else:
                length = to_int64(val)
    if kind == 1:
        return build(where, PromptProvenanceSpan, sequence_id=sequence_id, offset=offset, length=length)
    return build(where, SampledProvenanceSpan, sequence_id=sequence_id, offset=offset, length=length)
