# mypy: disable-error-code="func-returns-value"
"""Message-level hostile inputs: each is a clear ProtocolError, decided before any big allocation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tinkerlite import types as T
from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request, encode_forward_backward_request
from tinkerlite.codec.protobuf import Writer
from tinkerlite.codec.results_proto import (
    MAX_EMPTY_DATUMS,
    decode_forward_backward_output,
    decode_sample_response,
    encode_sample_response,
)
from tinkerlite.errors import ProtocolError


def msg(build: Callable[[Writer], object]) -> bytes:
    w = Writer()
    build(w)
    return w.getvalue()


def sub(build: Callable[[Writer], object]) -> Writer:
    w = Writer()
    build(w)
    return w


def bt(
    data: bytes = b"", offsets: list[int] | None = None, dtype: int = 1, trailing: list[int] | None = None
) -> Writer:
    def b(w: Writer) -> None:
        if data:
            w.bytes_field(1, data)
        w.bytes_field(2, b"".join(o.to_bytes(8, "little", signed=True) for o in (offsets or [0])))
        w.varint(3, dtype)
        w.packed_varints(4, trailing or [])

    return sub(b)


def fbo_with(field: Writer, num_datums: int = 1) -> bytes:
    entry = sub(lambda e: (e.string(1, "logprobs"), e.message(2, field)))
    rec = sub(lambda r: (r.message(2, entry), r.varint(3, num_datums)))
    return msg(lambda w: w.message(2, rec))


def nest(path: list[int], leaf: Writer) -> bytes:
    """Wrap ``leaf`` in one length-delimited field per path element (outermost first)."""
    inner = leaf
    for fn in reversed(path):
        outer = Writer()
        outer.message(fn, inner)
        inner = outer
    return inner.getvalue()


def timed(fn: Callable[[], Any]) -> None:
    start = time.perf_counter()
    fn()
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (fbo_with(bt(b"\0" * 8, [0, 8], dtype=9)), "unsupported dtype enum value 9"),
        (fbo_with(bt(b"\0" * 8, [0, 16])), "bad byte range"),
        (fbo_with(bt(b"\0" * 8, [0, 6])), "bad byte range"),
        (fbo_with(bt(b"\0" * 8, [8, 0])), "bad byte range"),
        (fbo_with(bt(b"\0" * 8, [0, 8], trailing=[3])), "do not fill trailing shape"),
        (fbo_with(bt(b"\0" * 8, [0, 8], trailing=[2**62, 2**62])), "do not fill trailing shape"),
        (fbo_with(bt(b"\0" * 8, [0, 8]), num_datums=5), "has 1 datums but the output declares 5"),
        (fbo_with(bt(b"\0" * 7, [0, 7])), "not a whole number"),
        (fbo_with(bt(b"\0" * 8, [0, 8], trailing=[-1])), "negative trailing_shape"),
        (msg(lambda w: w.message(2, sub(lambda r: r.varint(3, 2**62)))), "without any field"),
        (msg(lambda w: w.varint(1, 5)), "wrong wire type varint"),
        (msg(lambda w: w.message(3, sub(lambda e: (e.string(1, "m"), e.varint(2, 1))))), "wrong wire type"),
    ],
)
def test_forward_backward_output_rejects(body: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        timed(lambda: decode_forward_backward_output(body))


def topk(k: int, n: int, ids: bytes = b"", lps: bytes = b"") -> Writer:
    return sub(lambda t: (t.bytes_field(1, ids), t.bytes_field(2, lps), t.varint(3, k), t.varint(4, n)))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        # 2**32-1 × 2**32-1 cells declared with 8 bytes present: refused, nothing allocated
        (msg(lambda w: w.message(3, topk(2**32 - 1, 2**32 - 1, b"\0" * 8, b"\0" * 8))), "needs"),
        (msg(lambda w: w.message(1, sub(lambda s: s.varint(1, 7)))), "unknown stop_reason enum value 7"),
        (msg(lambda w: w.message(1, sub(lambda s: s.bytes_field(2, b"\0" * 5)))), "whole number of int32"),
        (msg(lambda w: w.bytes_field(2, b"\0" * 3)), "whole number of float32"),
        (
            msg(
                lambda w: w.message(
                    5, sub(lambda t: (t.bytes_field(1, b"\0" * 8), t.varint(3, 1), t.packed_varints(4, [3])))
                )
            ),
            "shape",
        ),
        (msg(lambda w: w.message(5, sub(lambda t: t.bytes_field(1, b"\0" * 4)))), "unsupported dtype enum value 0"),
        (msg(lambda w: w.varint(2, 1)), "wrong wire type"),
    ],
)
def test_sample_response_rejects(body: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        timed(lambda: decode_sample_response(body))


def test_unknown_fields_are_skipped_everywhere() -> None:
    resp = T.SampleResponse(sequences=[T.SampledSequence("length", [1, 2], [-0.5, -1.0])], prompt_cache_hit_tokens=3)
    body = encode_sample_response(resp)
    extra = msg(lambda w: (w.varint(99, 5), w.string(100, "future"), w.double(101, 1.0), w.float(102, 2.0)))
    # group for an unknown field number too
    extra += b"\xab\x06\x08\x01\xac\x06"  # field 101 start-group { field 1 varint 1 } end-group
    back = decode_sample_response(extra + body + extra)
    assert back.sequences[0].tokens == [1, 2] and back.prompt_cache_hit_tokens == 3


def test_request_rejects() -> None:
    good = encode_forward_backward_request(
        [T.Datum(T.ModelInput.from_ints([1, 2]), {"target_tokens": [2, 3]})], "cross_entropy", model_id="m", seq_id=1
    )
    assert decode_forward_backward_request(good).data[0].model_input.to_ints() == [1, 2]
    cases = [
        (nest([3, 1], Writer()), "chunk has none"),
        (nest([3, 1, 1], sub(lambda t: t.bytes_field(1, b"\0" * 3))), "whole number of int32"),
        (nest([3, 1, 1], sub(lambda t: t.bytes_field(1, b"\xff" * 4))), "negative"),
        (nest([3, 1, 2], sub(lambda i: i.string(2, "gif"))), "format"),
        (nest([7], sub(lambda e: e.string(1, "k"))), "neither a number nor a text"),
        (nest([3, 3, 1], sub(lambda a: a.varint(3, 2))), "sequence_id"),
        (nest([3, 1, 1], sub(lambda t: t.varint(1, 5))), "tokens: wrong wire type varint"),
        (msg(lambda w: w.varint(4, 1)), "loss_fn: wrong wire type"),
        (msg(lambda w: w.bytes_field(1, b"\xc3\x28")), "invalid UTF-8"),
    ]
    for body, match in cases:
        with pytest.raises(ProtocolError, match=match):
            timed(lambda body=body: decode_forward_backward_request(body))  # type: ignore[misc]


def test_empty_datum_cap_is_generous_but_finite() -> None:
    ok = msg(lambda w: w.message(2, sub(lambda r: r.varint(3, 3))))
    assert decode_forward_backward_output(ok).loss_fn_outputs == [{}, {}, {}]
    too_many = msg(lambda w: w.message(2, sub(lambda r: r.varint(3, MAX_EMPTY_DATUMS + 1))))
    with pytest.raises(ProtocolError):
        decode_forward_backward_output(too_many)
