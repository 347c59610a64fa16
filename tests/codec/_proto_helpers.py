"""Shared helpers for the protobuf codec tests: golden loading, spec -> tinkerlite objects, canonical form."""

from __future__ import annotations

import base64
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from tinkerlite import types as T
from tinkerlite.codec.protobuf import WT_LEN, Writer, iter_fields

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "proto"


@cache
def load_table(name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    return out


def golden_bytes(rel: str) -> bytes:
    return (GOLDEN / rel).read_bytes()


def tensor_from_spec(s: dict[str, Any]) -> T.TensorData:
    return T.TensorData(s["data"], s["dtype"], s["shape"], s.get("sparse_crow_indices"), s.get("sparse_col_indices"))


def chunk_from_spec(c: dict[str, Any]) -> T.ModelInputChunk:
    if c["type"] == "encoded_text":
        return T.EncodedTextChunk(c["tokens"])
    if c["type"] == "image":
        return T.ImageChunk(base64.b64decode(c["data_b64"]), c["format"], c["expected_tokens"])
    return T.DmelChunk(base64.b64decode(c["dmel_b64"]))


def span_from_spec(s: dict[str, Any]) -> T.PromptProvenanceSpan | T.SampledProvenanceSpan:
    cls = T.PromptProvenanceSpan if s["kind"] == "prompt" else T.SampledProvenanceSpan
    return cls(sequence_id=s["sequence_id"], offset=s["offset"], length=s["length"])


def datum_from_spec(d: dict[str, Any]) -> T.Datum:
    spans = "model_input_spans" in d
    return T.Datum(
        T.ModelInput([chunk_from_spec(c) for c in d["chunks"]]),
        {k: tensor_from_spec(v) for k, v in d["loss_fn_inputs"].items()},
        [span_from_spec(s) for s in d["model_input_spans"]] if spans else None,
        [span_from_spec(s) for s in d["loss_fn_input_spans"]] if spans else None,
    )


def td_json(td: T.TensorData) -> dict[str, Any]:
    """The same logical form the golden script records for the official decoder's TensorData."""
    data = [None if isinstance(x, float) and math.isnan(x) else x for x in td.data]
    return {
        "dtype": td.dtype,
        "shape": td.shape,
        "data": data,
        "sparse_crow_indices": td.sparse_crow_indices,
        "sparse_col_indices": td.sparse_col_indices,
    }


# Canonical form: re-serialise with each map's entries sorted, so bytes that differ only in map-entry
# order (upb writes maps in per-process hash order) compare equal, and nothing else is forgiven.
# message -> {field number: nested message or "MAP" (entries are sorted, not descended into further
# unless the entry value message is listed under "<msg>.<field>")}
SCHEMA: dict[str, dict[int, str]] = {
    "ForwardBackwardRequest": {3: "Datum", 5: "MAP", 7: "MAP"},
    "Datum": {2: "MAP"},
    "ForwardBackwardOutput": {2: "ArrayRecord", 3: "MAP"},
    "ArrayRecord": {2: "MAP"},
}


def canonical(buf: bytes | memoryview, message: str) -> bytes:
    fields = SCHEMA.get(message, {})
    out = Writer()
    run_fn = -1
    run: list[bytes] = []

    def flush() -> None:
        for entry in sorted(run):
            out.bytes_field(run_fn, entry)
        run.clear()

    view = memoryview(buf)
    for fn, wt, val in iter_fields(view):
        kind = fields.get(fn)
        if fn != run_fn:
            flush()
        if kind == "MAP":
            assert wt == WT_LEN and isinstance(val, memoryview)
            run_fn = fn
            run.append(bytes(val))
            continue
        run_fn = -1
        if kind is not None:
            assert wt == WT_LEN and isinstance(val, memoryview)
            out.bytes_field(fn, canonical(val, kind))
        elif wt == WT_LEN:
            assert isinstance(val, memoryview)
            out.bytes_field(fn, val)
        elif wt == 0:
            assert isinstance(val, int)
            out.varint(fn, val)
        elif wt == 1:
            assert isinstance(val, int)
            out.tag(fn, 1)
            out.raw(val.to_bytes(8, "little"))
        else:
            raise AssertionError(f"unexpected wire type {wt}")
    flush()
    return out.getvalue()


def max_map_entries(buf: bytes, message: str) -> int:
    """The largest number of entries any single map holds (0 or 1 means upb's order is forced)."""
    fields = SCHEMA.get(message, {})
    best = 0
    counts: dict[int, int] = {}
    for fn, _wt, val in iter_fields(memoryview(buf)):
        kind = fields.get(fn)
        if kind == "MAP":
            counts[fn] = counts.get(fn, 0) + 1
        elif kind is not None:
            assert isinstance(val, memoryview)
            best = max(best, max_map_entries(bytes(val), kind))
    return max([best, *counts.values()])
