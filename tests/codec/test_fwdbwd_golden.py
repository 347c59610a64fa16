"""ForwardBackwardRequest bytes against the official SDK's (tinker 0.38.0 and 0.25.0) golden vectors."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tinkerlite import types as T
from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request, encode_forward_backward_request
from tinkerlite.errors import ValidationError

from ._proto_helpers import canonical, datum_from_spec, golden_bytes, load_table, max_map_entries

VERSIONS = {"038": "0.38", "025": "0.25"}


def _cases(key: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = load_table(f"fwdbwd_request_{key}.json")["cases"]
    return out


ALL = [(key, c) for key in VERSIONS for c in _cases(key)]
IDS = [f"{key}-{c['name']}" for key, c in ALL]


def _encode(key: str, case: dict[str, Any]) -> bytes:
    return encode_forward_backward_request(
        [datum_from_spec(d) for d in case["data"]],
        case["loss_fn"],
        model_id=case["model_id"],
        seq_id=case["seq_id"],
        loss_fn_config=case["loss_fn_config"],
        forward_only=case["forward_only"],
        version=VERSIONS[key],  # type: ignore[arg-type]
    )


def test_golden_tables_cover_the_issue_cases() -> None:
    names = {c["name"] for c in _cases("038")}
    assert {
        "cross_entropy", "importance_sampling_config", "ppo_clip", "sparse_2d_targets", "images", "dmel",
        "forward_only", "v2_text_config", "provenance_spans", "empty_data", "batch_large",
    } <= names  # fmt: skip
    assert load_table("fwdbwd_request_038.json")["sdk_version"] == "0.38.0"
    assert load_table("fwdbwd_request_025.json")["sdk_version"] == "0.25.0"


@pytest.mark.parametrize(("key", "case"), ALL, ids=IDS)
def test_bytes_match_official(key: str, case: dict[str, Any]) -> None:
    ours = _encode(key, case)
    official = golden_bytes(case["bin"])
    assert len(ours) == len(official)
    # upb orders map entries by a per-process hash, so exact identity is only defined when no map
    # has two entries; otherwise everything but the entry order must match.
    if max_map_entries(official, "ForwardBackwardRequest") <= 1:
        assert ours == official
    assert canonical(ours, "ForwardBackwardRequest") == canonical(official, "ForwardBackwardRequest")


def test_some_cases_are_compared_byte_for_byte() -> None:
    exact = [c["name"] for k, c in ALL if max_map_entries(golden_bytes(c["bin"]), "ForwardBackwardRequest") <= 1]
    assert len(exact) >= 3, exact


@pytest.mark.parametrize(("key", "case"), ALL, ids=IDS)
def test_decode_official_bytes(key: str, case: dict[str, Any]) -> None:
    msg = decode_forward_backward_request(golden_bytes(case["bin"]))
    assert msg.model_id == case["model_id"]
    assert msg.seq_id == case["seq_id"]
    assert msg.loss_fn == case["loss_fn"]
    assert msg.forward_only == case["forward_only"]
    assert msg.data == [datum_from_spec(d) for d in case["data"]]
    want = {k: (v if isinstance(v, str) else float(v)) for k, v in (case["loss_fn_config"] or {}).items()}
    assert msg.loss_fn_config == want


def test_v038_writes_numbers_to_both_maps_and_strings_only_to_v2() -> None:
    body = encode_forward_backward_request(
        [], "custom", model_id="m", seq_id=1, loss_fn_config={"loss_id": "abc", "beta": 0.5}
    )
    case = next(c for c in _cases("038") if c["name"] == "v2_text_config")
    assert case["loss_fn_config"]["loss_id"] == "loss-abc"
    assert b"loss_id" in body and body.count(b"beta") == 2 and body.count(b"loss_id") == 1
    old = encode_forward_backward_request(
        [], "ppo", model_id="m", seq_id=1, loss_fn_config={"beta": 0.5}, version="0.25"
    )
    assert old.count(b"beta") == 1
    assert decode_forward_backward_request(old).loss_fn_config == {"beta": 0.5}


def test_v025_refuses_string_config() -> None:
    with pytest.raises(ValidationError, match="loss_id"):
        encode_forward_backward_request(
            [], "custom", model_id="m", seq_id=1, loss_fn_config={"loss_id": "x"}, version="0.25"
        )


def test_image_asset_pointer_is_refused_like_the_official_writer() -> None:
    assert load_table("fwdbwd_request_038.json")["image_asset_pointer_refused"] is True
    datum = T.Datum(T.ModelInput([T.EncodedTextChunk([1, 2]), T.ImageAssetPointerChunk("png", "s3://b/x.png", 4)]), {})
    with pytest.raises(ValidationError, match=r"data\[0\]\.model_input\.chunks\[1\].*image_asset_pointer"):
        encode_forward_backward_request([datum], "cross_entropy", model_id="m", seq_id=1)


def test_config_value_types() -> None:
    with pytest.raises(ValidationError, match="number or a string"):
        encode_forward_backward_request([], "ppo", model_id="m", seq_id=1, loss_fn_config={"x": [1]})  # type: ignore[dict-item]
    body = encode_forward_backward_request(
        [], "ppo", model_id="m", seq_id=1, loss_fn_config={"i": 2, "b": True, "n": math.inf}
    )
    assert decode_forward_backward_request(body).loss_fn_config == {"i": 2.0, "b": 1.0, "n": math.inf}


def test_seq_id_none_is_sent_as_zero_and_range_checked() -> None:
    assert (
        decode_forward_backward_request(encode_forward_backward_request([], "x", model_id="m", seq_id=None)).seq_id == 0
    )
    with pytest.raises(ValidationError, match="int32"):
        encode_forward_backward_request([], "x", model_id="m", seq_id=2**31)
    neg = encode_forward_backward_request([], "x", model_id="m", seq_id=-5)
    assert decode_forward_backward_request(neg).seq_id == -5
