"""``ForwardBackwardOutput`` and ``SampleResponse`` <-> protobuf bytes (the two results served as protobuf).

Decoding follows the official reader (``tinker/proto/response_conv.py``) value for value: INT32 is
widened to int64, BF16 to float32 (``bits << 16``), NaN prompt logprobs become None, a top-k row whose
first cell is the empty marker ``(0, -99999.0)`` becomes None, an absent stop reason means "stop".
Encoding is the server's side: consecutive datums whose fields share dtype and trailing shape go into
one ``ArrayRecord`` (a new record starts whenever either changes), as the official writer does.

Schema::

    ForwardBackwardOutput { 1 loss_fn_output_type: string; 2 loss_fn_outputs: repeated ArrayRecord;
      3 metrics: map<string,double> }
    ArrayRecord { 1 type_tag: string; 2 fields: map<string, BatchedTensor>; 3 num_datums: int64 }
    BatchedTensor { 1 data: bytes; 2 offsets: int64 LE byte offsets; 3 dtype; 4 trailing_shape }
    SampleResponse { 1 sequences; optional 2 prompt_logprobs: f32 bytes; optional 3 topk_prompt_logprobs;
      4 prompt_cache_hit_tokens: int32; optional 5 target_prompt_logprobs: Tensor;
      optional 6 prompt_alt_tokens {1 tokens: Tensor; 2 logprobs: Tensor} }
    SampledSequence { 1 stop_reason; 2 tokens: i32 bytes; optional 3 logprobs: f32 bytes;
      optional 4 topk_sampled_logprobs }
    TopkLogprobs { 1 token_ids: i32 N*K; 2 logprobs: f32 N*K; 3 k: uint32; 4 length: uint32 }
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

from ..backend._bytes import array_from_le, array_to_le
from ..errors import ProtocolError, ValidationError
from ..types import (
    ForwardBackwardOutput,
    PromptAltTokens,
    SampledSequence,
    SampleResponse,
    TensorData,
    TopkLogprobs,
)
from ..types.outputs import TopkRows
from .protobuf import (
    WT_LEN,
    WT_VARINT,
    Writer,
    decode_string_double_entry,
    expect_wire_type,
    extend_repeated_int64,
    iter_fields,
    to_int32,
    to_int64,
    to_uint32,
    utf8,
)
from .tensor_proto import (
    WIRE_DTYPES,
    build,
    decode_tensor,
    encode_tensor,
    float32_bytes,
    int32_bytes,
    tensor_dtype_code,
    widen_to_public,
)

__all__ = [
    "MAX_EMPTY_DATUMS",
    "decode_forward_backward_output",
    "decode_sample_response",
    "encode_forward_backward_output",
    "encode_sample_response",
]

#: A record without fields costs no bytes per datum, so its declared count needs its own bound.
MAX_EMPTY_DATUMS = 1 << 20

_STOP_REASONS = {0: "stop", 1: "length"}
_STOP_CODES = {"stop": 0, "length": 1}
_EMPTY = memoryview(b"")


def _numpy() -> Any:
    """numpy when the numpy backend is active (the decoders use it for per-value scans), else None."""
    from ..backend import get_backend

    if get_backend().name != "numpy":
        return None
    import numpy

    return numpy


def _view(body: bytes | bytearray | memoryview) -> memoryview:
    return memoryview(body).cast("B") if isinstance(body, memoryview) else memoryview(body)


# ----------------------------------------------------------------------------------------------------
# ForwardBackwardOutput


class _Field:
    """One BatchedTensor of one record, split into per-datum flat arrays."""

    __slots__ = ("arrays", "public", "trailing", "trailing_elems")

    def __init__(self, arrays: list[array], public: str, trailing: list[int]) -> None:  # type: ignore[type-arg]
        self.arrays = arrays
        self.public = public
        self.trailing = trailing
        self.trailing_elems = math.prod(trailing)


def _decode_batched_tensor(view: memoryview, what: str) -> _Field:
    data = offsets = _EMPTY
    dtype = 0
    trailing: list[int] = []
    for fn, wt, val in iter_fields(view):
        if fn in (1, 2):
            expect_wire_type(f"{what} field {fn}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            if fn == 1:
                data = val
            else:
                offsets = val
        elif fn == 3:
            expect_wire_type(f"{what}.dtype", wt, WT_VARINT)
            assert isinstance(val, int)
            dtype = val
        elif fn == 4:
            extend_repeated_int64(trailing, wt, val, f"{what}.trailing_shape")
    info = WIRE_DTYPES.get(dtype)
    if info is None:
        raise ProtocolError(f"{what}: unsupported dtype enum value {dtype}")
    size, public = info
    if any(d < 0 for d in trailing):
        raise ProtocolError(f"{what}: negative trailing_shape {trailing}")
    if len(offsets) % 8:
        raise ProtocolError(f"{what}.offsets: {len(offsets)} bytes is not a whole number of int64")
    offs = array_from_le(offsets, "int64")
    flat = widen_to_public(dtype, data, f"{what}.data")
    n = len(data)
    arrays = []
    prev = offs[0] if offs else 0
    for i in range(len(offs) - 1):
        start, end = offs[i], offs[i + 1]
        if not 0 <= start <= end <= n or start % size or end % size or start < prev:
            raise ProtocolError(f"{what}.offsets: bad byte range [{start}, {end}) for datum {i} of {n} bytes")
        prev = end
        arrays.append(flat[start // size : end // size])
    return _Field(arrays, public, trailing)


def _decode_record(view: memoryview, what: str) -> tuple[dict[str, _Field], int]:
    fields: dict[str, _Field] = {}
    num_datums = 0
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type(f"{what}.type_tag", wt, WT_LEN)
            assert isinstance(val, memoryview)
            utf8(val, f"{what}.type_tag")
        elif fn == 2:
            expect_wire_type(f"{what}.fields", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key = ""
            bt = _EMPTY
            for efn, ewt, eval_ in iter_fields(val):
                if efn == 1:
                    expect_wire_type(f"{what}.fields key", ewt, WT_LEN)
                    assert isinstance(eval_, memoryview)
                    key = utf8(eval_, f"{what}.fields key")
                elif efn == 2:
                    expect_wire_type(f"{what}.fields[{key!r}]", ewt, WT_LEN)
                    assert isinstance(eval_, memoryview)
                    bt = eval_
            fields[key] = _decode_batched_tensor(bt, f"{what}.fields[{key!r}]")
        elif fn == 3:
            expect_wire_type(f"{what}.num_datums", wt, WT_VARINT)
            assert isinstance(val, int)
            num_datums = to_int64(val)
    if num_datums < 0:
        raise ProtocolError(f"{what}.num_datums is negative ({num_datums})")
    return fields, num_datums


def decode_forward_backward_output(body: bytes | bytearray | memoryview) -> ForwardBackwardOutput:
    view = _view(body)
    output_type = ""
    records: list[tuple[dict[str, _Field], int]] = []
    metrics: dict[str, float] = {}
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type("ForwardBackwardOutput.loss_fn_output_type", wt, WT_LEN)
            assert isinstance(val, memoryview)
            output_type = utf8(val, "ForwardBackwardOutput.loss_fn_output_type")
        elif fn == 2:
            expect_wire_type("ForwardBackwardOutput.loss_fn_outputs", wt, WT_LEN)
            assert isinstance(val, memoryview)
            records.append(_decode_record(val, f"loss_fn_outputs[{len(records)}]"))
        elif fn == 3:
            expect_wire_type("ForwardBackwardOutput.metrics", wt, WT_LEN)
            assert isinstance(val, memoryview)
            key, num = decode_string_double_entry(val, "metrics")
            metrics[key] = num
    if not records:
        return ForwardBackwardOutput(output_type or "ArrayRecord", [], metrics)

    # Datum count: the records' num_datums, else (legacy writers) the first field's count.
    total = sum(n for _, n in records)
    names: list[str] = []
    for fields, _ in records:
        for name in fields:
            if name not in names:
                names.append(name)
    if total == 0 and names:
        total = sum(len(f[names[0]].arrays) for f, _ in records if names[0] in f)
    if total > MAX_EMPTY_DATUMS and not names:
        raise ProtocolError(f"{total} datums declared without any field (limit {MAX_EMPTY_DATUMS})")
    per_name: dict[str, list[tuple[array, _Field]]] = {name: [] for name in names}  # type: ignore[type-arg]
    for fields, _ in records:
        for name, f in fields.items():
            per_name[name].extend((a, f) for a in f.arrays)
    for name, items in per_name.items():
        if len(items) < total:
            raise ProtocolError(f"field {name!r} has {len(items)} datums but the output declares {total}")

    outputs: list[dict[str, TensorData]] = []
    adopt = TensorData._adopt_dense
    columns = list(per_name.items())
    for i in range(total):
        datum: dict[str, TensorData] = {}
        for name, items in columns:
            arr, f = items[i]
            per_row = f.trailing_elems
            if not per_row:
                datum[name] = build(f"datum {i} field {name!r}", TensorData, arr, f.public, [0, *f.trailing])
                continue
            leading, rest = divmod(len(arr), per_row)
            if rest:
                raise ProtocolError(
                    f"datum {i} field {name!r}: {len(arr)} values do not fill trailing shape {f.trailing}"
                )
            try:  # the array is fresh from this decoder, in the field's own typecode: adopted, not copied
                datum[name] = adopt(arr, f.public, [leading, *f.trailing])  # type: ignore[arg-type]
            except ValidationError as exc:
                raise ProtocolError(f"datum {i} field {name!r}: {exc}") from exc
        outputs.append(datum)
    return ForwardBackwardOutput(output_type.rsplit(":", 1)[-1], outputs, metrics)


def encode_forward_backward_output(out: ForwardBackwardOutput) -> bytes:
    """Server side: group consecutive datums with equal dtypes and trailing shapes into one record.

    Every datum must carry the same field names (the reader matches fields across records by name and
    position). ``type_tag`` is the bare class name (the part after the last ``:``); sparse tensors are
    written densified, since ``BatchedTensor`` has no sparse form.
    """
    w = Writer()
    if out.loss_fn_output_type:
        w.string(1, out.loss_fn_output_type)
    type_tag = out.loss_fn_output_type.rsplit(":", 1)[-1]
    outputs = out.loss_fn_outputs
    names = list(outputs[0]) if outputs else []
    groups: list[tuple[Any, list[dict[str, TensorData]]]] = []
    for i, datum in enumerate(outputs):
        if list(datum) != names and set(datum) != set(names):
            raise ValidationError(
                f"has fields {sorted(datum)} but datum 0 has {sorted(names)}; every datum needs the same fields",
                field=f"loss_fn_outputs[{i}]",
            )
        sig = tuple(
            (tensor_dtype_code(datum[n].dtype, f"loss_fn_outputs[{i}][{n!r}]"), tuple(datum[n].resolved_shape[1:]))
            for n in names
        )
        if groups and groups[-1][0] == sig:
            groups[-1][1].append(datum)
        else:
            groups.append((sig, [datum]))
    for sig, datums in groups:
        rec = Writer()
        if type_tag:
            rec.string(1, type_tag)
        for name, (code, trailing) in zip(names, sig, strict=True):
            parts = [_dense_bytes(d[name]) for d in datums]
            offs = array("q", [0])
            for p in parts:
                offs.append(offs[-1] + len(p))
            bt = Writer()
            data = b"".join(parts)
            if data:
                bt.bytes_field(1, data)
            bt.bytes_field(2, array_to_le(offs))
            bt.varint(3, code)
            bt.packed_varints(4, trailing)
            entry = Writer()
            entry.string(1, name)
            entry.message(2, bt)
            rec.message(2, entry)
        rec.varint(3, len(datums))
        w.message(2, rec)
    for key, value in out.metrics.items():
        entry = Writer()
        entry.string(1, key)
        entry.double(2, float(value))
        w.message(3, entry)
    return w.getvalue()


def _dense_bytes(td: TensorData) -> bytes:
    return td.to_bytes() if not td.is_sparse else array_to_le(td.dense_flat(0))


# ----------------------------------------------------------------------------------------------------
# SampleResponse


def _decode_topk(view: memoryview, what: str) -> TopkRows | None:
    ids = lps = _EMPTY
    k = length = 0
    for fn, wt, val in iter_fields(view):
        if fn in (1, 2):
            expect_wire_type(f"{what} field {fn}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            if fn == 1:
                ids = val
            else:
                lps = val
        elif fn in (3, 4):
            expect_wire_type(f"{what} field {fn}", wt, WT_VARINT)
            assert isinstance(val, int)
            if fn == 3:
                k = to_uint32(val)
            else:
                length = to_uint32(val)
    if length == 0 or k == 0:
        return None
    cells = length * k
    # Check the declared size against the bytes actually present before allocating anything.
    if len(ids) < 4 * cells or len(lps) < 4 * cells:
        raise ProtocolError(
            f"{what}: {length}×{k} table needs {4 * cells} bytes per matrix, got {len(ids)} and {len(lps)}"
        )
    id_arr = array_from_le(ids[: 4 * cells], "int32")
    lp_arr = array_from_le(lps[: 4 * cells], "float32")
    return build(what, TopkLogprobs, id_arr, lp_arr, k, length).to_lists()


def _f32_list(view: memoryview, what: str) -> list[float]:
    if len(view) % 4:
        raise ProtocolError(f"{what}: {len(view)} bytes is not a whole number of float32")
    out: list[float] = array_from_le(view, "float32").tolist()
    return out


def _nan_to_none(view: memoryview, what: str) -> list[float | None]:
    values: list[float | None] = list(_f32_list(view, what))
    np = _numpy()
    if np is not None:
        for i in np.flatnonzero(np.isnan(np.frombuffer(view, dtype="<f4"))).tolist():
            values[i] = None
        return values
    return [None if v != v else v for v in values]


def _decode_sequence(view: memoryview, what: str) -> SampledSequence:
    stop = 0
    tokens = _EMPTY
    logprobs: memoryview | None = None
    topk: memoryview | None = None
    for fn, wt, val in iter_fields(view):
        if fn == 1:
            expect_wire_type(f"{what}.stop_reason", wt, WT_VARINT)
            assert isinstance(val, int)
            stop = to_int32(val)
        elif fn in (2, 3, 4):
            expect_wire_type(f"{what} field {fn}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            if fn == 2:
                tokens = val
            elif fn == 3:
                logprobs = val
            else:
                topk = val
    reason = _STOP_REASONS.get(stop)
    if reason is None:
        raise ProtocolError(f"{what}: unknown stop_reason enum value {stop}")
    if len(tokens) % 4:
        raise ProtocolError(f"{what}.tokens: {len(tokens)} bytes is not a whole number of int32")
    return SampledSequence(
        stop_reason=reason,
        tokens=array_from_le(tokens, "int32").tolist(),
        logprobs=_f32_list(logprobs, f"{what}.logprobs") if logprobs else None,
        topk_logprobs=_decode_topk(topk, f"{what}.topk_sampled_logprobs") if topk is not None else None,
    )


def decode_sample_response(body: bytes | bytearray | memoryview) -> SampleResponse:
    view = _view(body)
    sequences: list[SampledSequence] = []
    prompt_lp: memoryview | None = None
    topk: memoryview | None = None
    cache_hits = 0
    target: memoryview | None = None
    alt: memoryview | None = None
    for fn, wt, val in iter_fields(view):
        if fn == 4:
            expect_wire_type("SampleResponse.prompt_cache_hit_tokens", wt, WT_VARINT)
            assert isinstance(val, int)
            cache_hits = to_int32(val)
        elif fn in (1, 2, 3, 5, 6):
            expect_wire_type(f"SampleResponse field {fn}", wt, WT_LEN)
            assert isinstance(val, memoryview)
            if fn == 1:
                sequences.append(_decode_sequence(val, f"sequences[{len(sequences)}]"))
            elif fn == 2:
                prompt_lp = val
            elif fn == 3:
                topk = val
            elif fn == 5:
                target = val
            else:
                alt = val
    alt_tokens = None
    if alt is not None:
        parts = {1: _EMPTY, 2: _EMPTY}
        for fn, wt, val in iter_fields(alt):
            if fn in (1, 2):
                expect_wire_type(f"prompt_alt_tokens field {fn}", wt, WT_LEN)
                assert isinstance(val, memoryview)
                parts[fn] = val
        alt_tokens = PromptAltTokens(
            tokens=decode_tensor(parts[1], "prompt_alt_tokens.tokens"),
            logprobs=decode_tensor(parts[2], "prompt_alt_tokens.logprobs"),
        )
    return SampleResponse(
        sequences=sequences,
        prompt_logprobs=_nan_to_none(prompt_lp, "prompt_logprobs") if prompt_lp else None,
        topk_prompt_logprobs=_decode_topk(topk, "topk_prompt_logprobs") if topk is not None else None,
        prompt_cache_hit_tokens=cache_hits,
        target_prompt_logprobs=decode_tensor(target, "target_prompt_logprobs") if target is not None else None,
        prompt_alt_tokens=alt_tokens,
    )


def _encode_topk(rows: TopkRows, what: str) -> Writer:
    try:
        table = TopkLogprobs.from_lists(rows)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"bad top-k rows: {exc}", field=what) from None
    w = Writer()
    ids = array_to_le(table.token_ids)
    lps = array_to_le(table.logprobs)
    if ids:
        w.bytes_field(1, ids)
    if lps:
        w.bytes_field(2, lps)
    if table.k:
        w.varint(3, table.k)
    if table.length:
        w.varint(4, table.length)
    return w


def _f32_bytes(values: Sequence[float | None], what: str) -> bytes:
    if any(v is None for v in values):
        values = [math.nan if v is None else v for v in values]
    return float32_bytes(values, what)  # type: ignore[arg-type]


def encode_sample_response(resp: SampleResponse) -> bytes:
    """Server side; ``sequence_id`` is not part of the result message (it comes with the submission)."""
    w = Writer()
    for i, seq in enumerate(resp.sequences):
        what = f"sequences[{i}]"
        s = Writer()
        code = _STOP_CODES.get(seq.stop_reason)
        if code is None:
            raise ValidationError(f"unknown stop_reason {seq.stop_reason!r}", field=f"{what}.stop_reason")
        if code:
            s.varint(1, code)
        toks = int32_bytes(seq.tokens, f"{what}.tokens")
        if toks:
            s.bytes_field(2, toks)
        if seq.logprobs is not None:
            s.bytes_field(3, _f32_bytes(seq.logprobs, f"{what}.logprobs"))
        if seq.topk_logprobs is not None:
            s.message(4, _encode_topk(seq.topk_logprobs, f"{what}.topk_logprobs"))
        w.message(1, s)
    if resp.prompt_logprobs is not None:
        w.bytes_field(2, _f32_bytes(resp.prompt_logprobs, "prompt_logprobs"))
    if resp.topk_prompt_logprobs is not None:
        w.message(3, _encode_topk(resp.topk_prompt_logprobs, "topk_prompt_logprobs"))
    if resp.prompt_cache_hit_tokens:
        w.varint(4, resp.prompt_cache_hit_tokens)
    if resp.target_prompt_logprobs is not None:
        w.message(5, encode_tensor(resp.target_prompt_logprobs, "target_prompt_logprobs"))
    if resp.prompt_alt_tokens is not None:
        alt = Writer()
        alt.message(1, encode_tensor(resp.prompt_alt_tokens.tokens, "prompt_alt_tokens.tokens"))
        alt.message(2, encode_tensor(resp.prompt_alt_tokens.logprobs, "prompt_alt_tokens.logprobs"))
        w.message(6, alt)
    return w.getvalue()
