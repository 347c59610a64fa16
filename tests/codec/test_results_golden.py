"""ForwardBackwardOutput / SampleResponse: decode the official SDK's bytes to what its decoder returns."""

from __future__ import annotations

from typing import Any

import pytest

from tinkerlite import types as T
from tinkerlite.backend import get_backend, set_backend
from tinkerlite.codec.results_proto import (
    decode_forward_backward_output,
    decode_sample_response,
    encode_forward_backward_output,
    encode_sample_response,
)

from ._proto_helpers import canonical, golden_bytes, load_table, max_map_entries, td_json

FBO = load_table("fwdbwd_output.json")["cases"]
SAMPLE = load_table("sample_response.json")["cases"]


@pytest.fixture(params=["pure", "numpy"])
def backend(request: pytest.FixtureRequest) -> Any:
    before = get_backend().name
    set_backend(request.param)
    yield request.param
    set_backend(before)


def _fbo_logical(out: T.ForwardBackwardOutput) -> dict[str, Any]:
    return {
        "loss_fn_output_type": out.loss_fn_output_type,
        "metrics": out.metrics,
        "loss_fn_outputs": [{k: td_json(v) for k, v in d.items()} for d in out.loss_fn_outputs],
    }


@pytest.mark.parametrize("case", FBO, ids=[c["name"] for c in FBO])
def test_decode_forward_backward_output(case: dict[str, Any], backend: str) -> None:
    got = _fbo_logical(decode_forward_backward_output(golden_bytes(case["bin"])))
    assert got == case["official_decoded"]


def test_bf16_and_int32_widening_values() -> None:
    case = next(c for c in FBO if c["name"] == "int32_bf16_widen")
    out = decode_forward_backward_output(golden_bytes(case["bin"]))
    bf = out.loss_fn_outputs[0]["bf"]
    assert bf.dtype == "float32" and bf.data == [1.0, -1.0, 0.0, -0.0, float("inf")]
    ids = out.loss_fn_outputs[1]["ids"]
    assert ids.dtype == "int64" and ids.data == [-(2**31)]
    assert out.loss_fn_outputs[1]["idx2d"].shape == [1, 2]


@pytest.mark.parametrize("case", FBO, ids=[c["name"] for c in FBO])
def test_encode_forward_backward_output_reproduces_official_records(case: dict[str, Any]) -> None:
    """Our writer groups datums into records like the golden writer did, for the cases that follow that rule."""
    official = golden_bytes(case["bin"])
    decoded = decode_forward_backward_output(official)
    if case["name"] in ("single_record", "grouped", "fields_stripped", "empty_datum_arrays"):
        rebuilt = T.ForwardBackwardOutput(case["loss_fn_output_type"], decoded.loss_fn_outputs, decoded.metrics)
        ours = encode_forward_backward_output(rebuilt)
        if max_map_entries(official, "ForwardBackwardOutput") <= 1:
            assert ours == official
        assert canonical(ours, "ForwardBackwardOutput") == canonical(official, "ForwardBackwardOutput")
    # whatever the grouping, what we write decodes to the same logical output
    again = decode_forward_backward_output(encode_forward_backward_output(decoded))
    assert _fbo_logical(again)["loss_fn_outputs"] == case["official_decoded"]["loss_fn_outputs"]


def test_grouping_starts_a_record_when_dtype_or_trailing_shape_changes() -> None:
    f = T.TensorData
    outs = [
        {"lp": f([1.0, 2.0], "float32", [2])},
        {"lp": f([3.0], "float32", [1])},
        {"lp": f([1.0, 2.0], "float32", [1, 2])},
        {"lp": f([4, 5], "int64", [2])},
        {"lp": f([6], "int64", [1])},
    ]
    body = encode_forward_backward_output(T.ForwardBackwardOutput("ArrayRecord", outs, {"loss:sum": 1.0}))
    from tinkerlite.codec.protobuf import iter_fields

    records = [v for fn, _, v in iter_fields(memoryview(body)) if fn == 2]
    assert len(records) == 3
    back = decode_forward_backward_output(body)
    assert back.loss_fn_outputs == outs


def _lists(rows: Any) -> Any:
    return None if rows is None else [None if r is None else [list(c) for c in r] for r in rows]


def _sample_logical(r: T.SampleResponse) -> dict[str, Any]:
    return {
        "sequences": [
            {
                "stop_reason": s.stop_reason,
                "tokens": s.tokens,
                "logprobs": s.logprobs,
                "topk_logprobs": _lists(s.topk_logprobs),
            }
            for s in r.sequences
        ],
        "prompt_logprobs": r.prompt_logprobs,
        "topk_prompt_logprobs": _lists(r.topk_prompt_logprobs),
        "prompt_cache_hit_tokens": r.prompt_cache_hit_tokens,
        "target_prompt_logprobs": None if r.target_prompt_logprobs is None else td_json(r.target_prompt_logprobs),
        "prompt_alt_tokens": None
        if r.prompt_alt_tokens is None
        else {"tokens": td_json(r.prompt_alt_tokens.tokens), "logprobs": td_json(r.prompt_alt_tokens.logprobs)},
    }


@pytest.mark.parametrize("case", SAMPLE, ids=[c["name"] for c in SAMPLE])
def test_decode_sample_response(case: dict[str, Any], backend: str) -> None:
    got = _sample_logical(decode_sample_response(golden_bytes(case["bin"])))
    assert got == case["official_decoded"]


@pytest.mark.parametrize("case", SAMPLE, ids=[c["name"] for c in SAMPLE])
def test_encode_sample_response_round_trips_official_bytes(case: dict[str, Any]) -> None:
    official = golden_bytes(case["bin"])
    decoded = decode_sample_response(official)
    ours = encode_sample_response(decoded)
    assert _sample_logical(decode_sample_response(ours)) == case["official_decoded"]
    if case["name"] == "basic":
        # nothing lossy to normalise (an empty present prompt_logprobs reads as None, INT32 alt tokens
        # widen to int64, top-k padding is trimmed): our writer reproduces the bytes exactly
        assert ours == official


def test_sample_semantics() -> None:
    case = next(c for c in SAMPLE if c["name"] == "prompt_logprobs_topk")
    r = decode_sample_response(golden_bytes(case["bin"]))
    assert r.sequences[0].stop_reason == "stop"  # absent on the wire
    assert r.prompt_logprobs is not None and r.prompt_logprobs[0] is None and r.prompt_logprobs[5] is None
    assert r.topk_prompt_logprobs is not None and r.topk_prompt_logprobs[0] is None
    assert r.prompt_cache_hit_tokens == 128
