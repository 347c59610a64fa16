"""Property tests: encode -> decode is the identity for every message type (up to proto3's lossy spots)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinkerlite import types as T
from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request, encode_forward_backward_request
from tinkerlite.codec.results_proto import (
    decode_forward_backward_output,
    decode_sample_response,
    encode_forward_backward_output,
    encode_sample_response,
)

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tokens = st.lists(st.integers(0, 2**31 - 1), max_size=20)
f32 = st.floats(width=32, allow_nan=False)
f32_any = st.floats(width=32)
i64 = st.integers(-(2**63), 2**63 - 1)
names = st.text(min_size=1, max_size=12)


@st.composite
def tensors(draw: Any, dtype: str | None = None, explicit_shape: bool = False) -> T.TensorData:
    dt = dtype or draw(st.sampled_from(["int64", "float32"]))
    vals = i64 if dt == "int64" else f32_any
    kind = draw(st.sampled_from(["1d", "2d", "sparse"]))
    if kind == "1d":
        data = draw(st.lists(vals, max_size=12))
        shape = [len(data)] if explicit_shape or draw(st.booleans()) else None
        return T.TensorData(data, dt, shape)  # type: ignore[arg-type]
    rows, cols = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    if kind == "2d":
        return T.TensorData(draw(st.lists(vals, min_size=rows * cols, max_size=rows * cols)), dt, [rows, cols])  # type: ignore[arg-type]
    crow, col = [0], []
    for _ in range(rows):
        picked = sorted(draw(st.sets(st.integers(0, cols - 1))))
        col.extend(picked)
        crow.append(len(col))
    data = draw(st.lists(vals, min_size=len(col), max_size=len(col)))
    return T.TensorData(data, dt, [rows, cols], crow, col)  # type: ignore[arg-type]


@st.composite
def chunks(draw: Any) -> T.ModelInputChunk:
    kind = draw(st.sampled_from(["text", "text", "image", "dmel"]))
    if kind == "text":
        return T.EncodedTextChunk(draw(tokens))
    if kind == "image":
        return T.ImageChunk(
            draw(st.binary(max_size=30)),
            draw(st.sampled_from(["png", "jpeg"])),
            draw(st.none() | st.integers(0, 2**31 - 1)),
        )
    dims = draw(st.lists(st.integers(0, 300), min_size=1, max_size=3))
    header = bytes([draw(st.integers(0, 7)), len(dims)]) + b"".join(_varint(d) for d in dims)
    return T.DmelChunk(header + draw(st.binary(max_size=20)))


def _varint(v: int) -> bytes:
    out = bytearray()
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


spans = st.lists(
    st.builds(
        lambda kind, sid, off, n: (T.PromptProvenanceSpan if kind else T.SampledProvenanceSpan)(
            sequence_id=sid, offset=off, length=n
        ),
        st.booleans(),
        names,
        st.integers(0, 2**62),
        st.integers(0, 2**62),
    ),
    max_size=3,
)


@st.composite
def datums(draw: Any) -> T.Datum:
    inputs = draw(st.dictionaries(names, tensors(), max_size=3))
    with_spans = draw(st.booleans())
    return T.Datum(
        T.ModelInput(draw(st.lists(chunks(), max_size=3))),
        inputs,
        draw(spans) if with_spans else None,
        draw(spans) if with_spans else None,
    )


config = st.dictionaries(names, st.floats(allow_nan=False) | st.text(max_size=8), max_size=4)


@SETTINGS
@given(
    data=st.lists(datums(), max_size=4),
    loss_fn=st.text(max_size=20),
    model_id=st.text(max_size=20),
    seq_id=st.integers(-(2**31), 2**31 - 1),
    cfg=config,
    forward_only=st.booleans(),
)
def test_request_round_trip(
    data: list[T.Datum], loss_fn: str, model_id: str, seq_id: int, cfg: dict[str, Any], forward_only: bool
) -> None:
    body = encode_forward_backward_request(
        data, loss_fn, model_id=model_id, seq_id=seq_id, loss_fn_config=cfg, forward_only=forward_only
    )
    msg = decode_forward_backward_request(body)
    assert (msg.model_id, msg.seq_id, msg.loss_fn, msg.forward_only) == (model_id, seq_id, loss_fn, forward_only)
    assert msg.loss_fn_config == cfg
    # proto3 cannot tell "no spans" from empty span lists apart; _spans_equal treats them alike
    assert _spans_equal(msg.data, data)


def _spans_equal(got: list[T.Datum], data: list[T.Datum]) -> bool:
    for g, d in zip(got, data, strict=True):
        if (g.model_input, g.loss_fn_inputs) != (d.model_input, d.loss_fn_inputs):
            return False
        if (g.model_input_spans or []) != (d.model_input_spans or []):
            return False
        if (g.loss_fn_input_spans or []) != (d.loss_fn_input_spans or []):
            return False
    return True


@SETTINGS
@given(data=st.lists(datums(), max_size=3), cfg=st.dictionaries(names, st.floats(allow_nan=False), max_size=3))
def test_request_round_trip_v025(data: list[T.Datum], cfg: dict[str, float]) -> None:
    body = encode_forward_backward_request(data, "ppo", model_id="m", seq_id=1, loss_fn_config=cfg, version="0.25")
    msg = decode_forward_backward_request(body)
    assert msg.loss_fn_config == cfg
    assert _spans_equal(msg.data, data)


@st.composite
def fbo(draw: Any) -> T.ForwardBackwardOutput:
    fields = draw(st.lists(names, unique=True, max_size=3))
    outs = []
    for _ in range(draw(st.integers(0, 5))):
        outs.append(
            {n: draw(tensors(explicit_shape=True).filter(lambda t: len(t.resolved_shape) >= 1)) for n in fields}
        )
    otype = draw(st.text(min_size=1, max_size=12).filter(lambda s: ":" not in s))
    metrics = draw(st.dictionaries(st.text(max_size=10), st.floats(allow_nan=False), max_size=4))
    return T.ForwardBackwardOutput(otype, outs, metrics)


@SETTINGS
@given(out=fbo())
def test_forward_backward_output_round_trip(out: T.ForwardBackwardOutput) -> None:
    back = decode_forward_backward_output(encode_forward_backward_output(out))
    assert back.metrics == out.metrics
    assert back.loss_fn_output_type == out.loss_fn_output_type
    # outputs come back dense (sparse inputs are densified by the writer), with their full shape
    want = [
        {k: T.TensorData(v.dense_flat(0), v.dtype, v.resolved_shape) for k, v in d.items()} for d in out.loss_fn_outputs
    ]
    assert back.loss_fn_outputs == want


lp = f32.filter(lambda x: x != -99999.0)
topk_rows = st.lists(st.none() | st.lists(st.tuples(st.integers(1, 2**31 - 1), lp), min_size=1, max_size=4), max_size=5)


def _norm_rows(rows: Any) -> Any:
    if rows is None:
        return None
    k = max((len(r) for r in rows if r), default=0)
    if not rows or k == 0:
        return None
    return [None if not r else [(t, v) for t, v in r] for r in rows]


@st.composite
def sample_responses(draw: Any) -> T.SampleResponse:
    seqs = [
        T.SampledSequence(
            stop_reason=draw(st.sampled_from(["stop", "length"])),
            tokens=draw(tokens),
            logprobs=draw(st.none() | st.lists(f32, max_size=6)),
            topk_logprobs=draw(st.none() | topk_rows),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    alt = None
    if draw(st.booleans()):
        alt = T.PromptAltTokens(draw(tensors("int64", True)), draw(tensors("float32", True)))
    return T.SampleResponse(
        sequences=seqs,
        prompt_logprobs=draw(st.none() | st.lists(st.none() | f32, max_size=6)),
        topk_prompt_logprobs=draw(st.none() | topk_rows),
        prompt_cache_hit_tokens=draw(st.integers(0, 2**31 - 1)),
        target_prompt_logprobs=draw(st.none() | tensors("float32", True)),
        prompt_alt_tokens=alt,
    )


@SETTINGS
@given(resp=sample_responses())
def test_sample_response_round_trip(resp: T.SampleResponse) -> None:
    back = decode_sample_response(encode_sample_response(resp))
    assert len(back.sequences) == len(resp.sequences)
    for b, s in zip(back.sequences, resp.sequences, strict=True):
        assert (b.stop_reason, b.tokens) == (s.stop_reason, s.tokens)
        assert b.logprobs == (s.logprobs or None)  # an empty list reads back as None, as in the SDK
        assert b.topk_logprobs == _norm_rows(s.topk_logprobs)
    assert back.prompt_logprobs == (resp.prompt_logprobs or None)
    assert back.topk_prompt_logprobs == _norm_rows(resp.topk_prompt_logprobs)
    assert back.prompt_cache_hit_tokens == resp.prompt_cache_hit_tokens
    assert back.target_prompt_logprobs == resp.target_prompt_logprobs
    assert back.prompt_alt_tokens == resp.prompt_alt_tokens


def test_nan_prompt_logprobs_are_none() -> None:
    resp = T.SampleResponse(sequences=[], prompt_logprobs=[None, -1.0, math.nan, -2.5])
    assert decode_sample_response(encode_sample_response(resp)).prompt_logprobs == [None, -1.0, None, -2.5]
