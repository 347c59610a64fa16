"""Regenerate the protobuf golden vectors under ``tests/golden/proto/`` from the official SDK.

Run with the system Python: ``python tests/golden/make_proto_goldens.py``. It creates throwaway venvs
(``--venv-dir``, default ``~/.cache/tinkerlite/official-venvs``, outside the checkout) with ``tinker==0.38.0``
and ``tinker==0.25.0``,
then re-runs itself inside each venv (``--inner``) where it drives the official encoder
(``tinker.proto.request_conv``), the official protobuf messages (``tinker_public_pb2``) and the
official decoder (``tinker.proto.response_conv``). The case inputs are plain JSON built here, so the
tests can rebuild the same inputs with tinkerlite types and never need the SDK.

Outputs (committed): ``fwdbwd_request_<ver>.json`` + ``requests/<ver>/<case>.bin`` (official request
bytes), and for 0.38 ``fwdbwd_output.json`` / ``sample_response.json`` + ``outputs/<case>.bin``
(official output bytes together with the official decoder's logical result).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import struct
import subprocess
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VERSIONS = {"038": "0.38.0", "025": "0.25.0"}

# ----------------------------------------------------------------------------------------------------
# case tables (pure data; shared by both venvs and by the tests through the JSON files)


def _f32(x: float) -> float:
    """Round to the nearest float32 so JSON floats mean the same on both sides."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _tokens(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(0, 151_000) for _ in range(n)]


def _floats(rng: random.Random, n: int, lo: float = -4.0, hi: float = 4.0) -> list[float]:
    return [_f32(rng.uniform(lo, hi)) for _ in range(n)]


def _dense(dtype: str, data: list[Any], shape: list[int] | None) -> dict[str, Any]:
    return {"dtype": dtype, "data": data, "shape": shape}


def _sft_datum(rng: random.Random, n: int, *, shape: bool = True) -> dict[str, Any]:
    toks = _tokens(rng, n + 1)
    weights = [float(rng.random() < 0.7) for _ in range(n)]
    return {
        "chunks": [{"type": "encoded_text", "tokens": toks[:-1]}],
        "loss_fn_inputs": {
            "target_tokens": _dense("int64", toks[1:], [n] if shape else None),
            "weights": _dense("float32", weights, [n] if shape else None),
        },
    }


def _rl_datum(rng: random.Random, n: int) -> dict[str, Any]:
    toks = _tokens(rng, n + 1)
    return {
        "chunks": [{"type": "encoded_text", "tokens": toks[:-1]}],
        "loss_fn_inputs": {
            "target_tokens": _dense("int64", toks[1:], [n]),
            "logprobs": _dense("float32", _floats(rng, n, -8.0, 0.0), [n]),
            "advantages": _dense("float32", _floats(rng, n), [n]),
        },
    }


def _sparse_2d(rng: random.Random, rows: int, cols: int, dtype: str) -> dict[str, Any]:
    crow = [0]
    col: list[int] = []
    vals: list[Any] = []
    for _ in range(rows):
        picked = sorted(rng.sample(range(cols), rng.randrange(0, cols // 2 + 1)))
        col.extend(picked)
        vals.extend(rng.randrange(1, 1000) if dtype == "int64" else _f32(rng.random()) for _ in picked)
        crow.append(len(col))
    return {
        "dtype": dtype,
        "data": vals,
        "shape": [rows, cols],
        "sparse_crow_indices": crow,
        "sparse_col_indices": col,
    }


def request_cases(version: str) -> list[dict[str, Any]]:
    rng = random.Random(20260825)
    png = bytes(range(256)) * 3 + b"\x89PNG"
    jpeg = b"\xff\xd8\xff" + bytes(rng.randrange(256) for _ in range(300))
    # dmel payload: a TensorContainer header (dtype byte 1, ndim 2, dims 5 x 8) + body
    dmel = bytes([1, 2, 5, 8]) + bytes(rng.randrange(256) for _ in range(160))

    def req(name: str, data: list[dict[str, Any]], loss_fn: str = "cross_entropy", **kw: Any) -> dict[str, Any]:
        return {
            "name": name,
            "model_id": kw.get("model_id", "sess-1234:train:0"),
            "seq_id": kw.get("seq_id", 1),
            "loss_fn": loss_fn,
            "loss_fn_config": kw.get("loss_fn_config"),
            "forward_only": kw.get("forward_only", False),
            "data": data,
        }

    cases = [
        req("cross_entropy", [_sft_datum(rng, 7), _sft_datum(rng, 12)], seq_id=5),
        req("cross_entropy_no_shape", [_sft_datum(rng, 5, shape=False)], seq_id=2),
        req(
            "importance_sampling_config",
            [_rl_datum(rng, 9), _rl_datum(rng, 4)],
            "importance_sampling",
            loss_fn_config={"eps": 0.125},
            seq_id=17,
        ),
        req(
            "ppo_clip",
            [_rl_datum(rng, 10)],
            "ppo",
            loss_fn_config={"clip_low_threshold": 0.8, "clip_high_threshold": 1.2},
            seq_id=300,
        ),
        req("dro_zero_config", [_rl_datum(rng, 3)], "dro", loss_fn_config={"beta": 0.0, "neg": -1.5}),
        req(
            "sparse_2d_targets",
            [
                {
                    "chunks": [{"type": "encoded_text", "tokens": _tokens(rng, 6)}],
                    "loss_fn_inputs": {
                        "target_tokens": _sparse_2d(rng, 6, 8, "int64"),
                        "weights": _sparse_2d(rng, 6, 8, "float32"),
                    },
                }
            ],
        ),
        req(
            "images",
            [
                {
                    "chunks": [
                        {"type": "encoded_text", "tokens": _tokens(rng, 3)},
                        {
                            "type": "image",
                            "data_b64": base64.b64encode(png).decode(),
                            "format": "png",
                            "expected_tokens": 4,
                        },
                        {
                            "type": "image",
                            "data_b64": base64.b64encode(jpeg).decode(),
                            "format": "jpeg",
                            "expected_tokens": None,
                        },
                        {"type": "encoded_text", "tokens": _tokens(rng, 2)},
                    ],
                    "loss_fn_inputs": {
                        "target_tokens": _dense("int64", _tokens(rng, 9), [9]),
                        "weights": _dense("float32", [1.0] * 9, [9]),
                    },
                }
            ],
        ),
        req(
            "dmel",
            [
                {
                    "chunks": [
                        {"type": "encoded_text", "tokens": _tokens(rng, 2)},
                        {"type": "dmel", "dmel_b64": base64.b64encode(dmel).decode()},
                    ],
                    "loss_fn_inputs": {
                        "target_tokens": _dense("int64", _tokens(rng, 7), [7]),
                        "weights": _dense("float32", [1.0] * 7, [7]),
                    },
                }
            ],
        ),
        req("forward_only", [_sft_datum(rng, 6)], forward_only=True, seq_id=9),
        req("empty_data", [], seq_id=3),
        req(
            "empty_tensors",
            [
                {
                    "chunks": [{"type": "encoded_text", "tokens": []}],
                    "loss_fn_inputs": {
                        "target_tokens": _dense("int64", [], [0]),
                        "weights": _dense("float32", [], [0]),
                    },
                }
            ],
        ),
        req(
            "extreme_values",
            [
                {
                    "chunks": [{"type": "encoded_text", "tokens": [0, 1, 2**31 - 1, 127, 128, 16383, 16384]}],
                    "loss_fn_inputs": {
                        "target_tokens": _dense("int64", [2**63 - 1, -(2**63), -1, 0, 1, 2**40, 7], [7]),
                        "weights": _dense("float32", [0.0, -0.0, 1e-38, 3.0e38, -2.5, 1.0, 0.5], [7]),
                    },
                }
            ],
            seq_id=2**31 - 1,
            model_id="m-ü-✓",
        ),
        req("batch_large", [_sft_datum(rng, rng.randrange(100, 300)) for _ in range(8)], seq_id=42),
    ]
    # Maps with at most one entry leave upb no order to choose, so these compare byte for byte.
    single = [_sft_datum(rng, n) for n in (4, 9, 1)]
    for d in single:
        del d["loss_fn_inputs"]["weights"]
    single[1]["chunks"].append(
        {"type": "image", "data_b64": base64.b64encode(png[:40]).decode(), "format": "png", "expected_tokens": 0}
    )
    single[2]["loss_fn_inputs"]["target_tokens"] = _sparse_2d(rng, 3, 5, "int64")
    cases.append(req("exact_single_map", single, "ppo", loss_fn_config={"clip_low_threshold": 0.75}, seq_id=77))
    if version == "038":
        exact_prov = _sft_datum(rng, 3)
        del exact_prov["loss_fn_inputs"]["weights"]
        exact_prov["model_input_spans"] = [{"kind": "sampled", "sequence_id": "s", "offset": 3, "length": 3}]
        exact_prov["loss_fn_input_spans"] = [{"kind": "prompt", "sequence_id": "s", "offset": 0, "length": 3}]
        cases.append(
            req("exact_text_config_spans", [exact_prov], "custom", loss_fn_config={"loss_id": "x"}, forward_only=True)
        )
        prov = _sft_datum(rng, 8)
        prov["model_input_spans"] = [
            {"kind": "prompt", "sequence_id": "seq-a", "offset": 0, "length": 5},
            {"kind": "sampled", "sequence_id": "seq-a", "offset": 2, "length": 3},
        ]
        prov["loss_fn_input_spans"] = [
            {"kind": "prompt", "sequence_id": "seq-a", "offset": 1, "length": 4},
            {"kind": "sampled", "sequence_id": "seq-b", "offset": 0, "length": 4},
        ]
        cases += [
            req(
                "v2_text_config",
                [_rl_datum(rng, 5)],
                "custom",
                loss_fn_config={"loss_id": "loss-abc", "kl_coeff": 0.05, "mode": ""},
            ),
            req("provenance_spans", [prov], "importance_sampling", loss_fn_config={"eps": 0.2}),
        ]
    return cases


# Output cases: records are spelled out so the official pb2 classes can build them verbatim.
# dtype enum: 1 FLOAT32, 2 INT64, 3 INT32, 4 BFLOAT16 (BF16 data given as uint16 bit patterns).


def _bt(dtype: int, trailing: list[int], datums: list[list[Any]]) -> dict[str, Any]:
    return {"dtype": dtype, "trailing_shape": trailing, "datums": datums}


def fwdbwd_output_cases() -> list[dict[str, Any]]:
    rng = random.Random(7)
    lens = [rng.randrange(1, 40) for _ in range(5)]
    bf16 = [0x3F80, 0xBF80, 0x0000, 0x8000, 0x7F80, 0xFF80, 0x4049, 0x0001, 0x7FC0]
    return [
        {
            "name": "single_record",
            "loss_fn_output_type": "tinker.ArrayRecord:ArrayRecord",
            "metrics": {"loss:sum": 12.5, "tokens:sum": 40.0},
            "records": [
                {
                    "type_tag": "ArrayRecord",
                    "num_datums": 5,
                    "fields": {
                        "logprobs": _bt(1, [], [_floats(rng, n, -9, 0) for n in lens]),
                        "elementwise_loss": _bt(1, [], [_floats(rng, n, 0, 9) for n in lens]),
                    },
                }
            ],
        },
        {
            "name": "grouped",
            "loss_fn_output_type": "ArrayRecord",
            "metrics": {"loss:sum": -0.25, "e_frac:mean": 0.5},
            "records": [
                {
                    "type_tag": "ArrayRecord",
                    "num_datums": 2,
                    "fields": {"logprobs": _bt(1, [], [_floats(rng, 3), _floats(rng, 4)])},
                },
                {"type_tag": "ArrayRecord", "num_datums": 1, "fields": {"logprobs": _bt(1, [3], [_floats(rng, 6)])}},
                {"type_tag": "ArrayRecord", "num_datums": 1, "fields": {"logprobs": _bt(2, [], [[1, -2, 2**40]])}},
            ],
        },
        {
            "name": "int32_bf16_widen",
            "loss_fn_output_type": "ArrayRecord",
            "metrics": {},
            "records": [
                {
                    "type_tag": "ArrayRecord",
                    "num_datums": 2,
                    "fields": {
                        "ids": _bt(3, [], [[1, -1, 2**31 - 1], [-(2**31)]]),
                        "bf": _bt(4, [], [bf16[:5], bf16[5:7]]),
                        "idx2d": _bt(2, [2], [[1, 2, 3, 4], [5, 6]]),
                    },
                }
            ],
        },
        {"name": "no_records", "loss_fn_output_type": "", "metrics": {"loss:sum": 0.0}, "records": []},
        {
            "name": "num_datums_zero_fallback",
            "loss_fn_output_type": "x:ArrayRecord",
            "metrics": {},
            "records": [{"type_tag": "", "num_datums": 0, "fields": {"logprobs": _bt(1, [], [[0.5], [0.25, 0.125]])}}],
        },
        {
            "name": "fields_stripped",
            "loss_fn_output_type": "ArrayRecord",
            "metrics": {"loss:sum": 1.0},
            "records": [{"type_tag": "ArrayRecord", "num_datums": 3, "fields": {}}],
        },
        {
            "name": "empty_datum_arrays",
            "loss_fn_output_type": "ArrayRecord",
            "metrics": {"m:max": -3.0},
            "records": [{"type_tag": "ArrayRecord", "num_datums": 2, "fields": {"logprobs": _bt(1, [], [[], [1.5]])}}],
        },
    ]


def sample_response_cases() -> list[dict[str, Any]]:
    rng = random.Random(11)
    nan = None  # JSON spelling of NaN in prompt_logprobs

    def topk(n: int, k: int, empty_rows: set[int], trailing_empty: int = 0) -> dict[str, Any]:
        ids: list[int] = []
        lps: list[float] = []
        for i in range(n):
            for j in range(k):
                if i in empty_rows or (j >= k - trailing_empty and i % 2):
                    ids.append(0)
                    lps.append(-99999.0)
                else:
                    ids.append(rng.randrange(1, 50000))
                    lps.append(_f32(rng.uniform(-10, 0)))
        return {"token_ids": ids, "logprobs": lps, "k": k, "length": n}

    return [
        {
            "name": "basic",
            "sequences": [
                {"stop_reason": 0, "tokens": _tokens(rng, 6), "logprobs": _floats(rng, 6, -5, 0)},
                {"stop_reason": 1, "tokens": _tokens(rng, 3), "logprobs": None},
            ],
            "prompt_cache_hit_tokens": 0,
        },
        {
            "name": "prompt_logprobs_topk",
            "sequences": [{"stop_reason": None, "tokens": _tokens(rng, 4), "logprobs": _floats(rng, 4, -5, 0)}],
            "prompt_logprobs": [nan, *_floats(rng, 4, -7, 0), nan, -0.5],
            "topk_prompt_logprobs": topk(7, 3, {0}, trailing_empty=1),
            "prompt_cache_hit_tokens": 128,
        },
        {
            "name": "v038_fields",
            "sequences": [
                {
                    "stop_reason": 1,
                    "tokens": _tokens(rng, 5),
                    "logprobs": _floats(rng, 5, -5, 0),
                    "topk": topk(5, 2, set()),
                }
            ],
            "target_prompt_logprobs": {"dtype": 1, "shape": [3, 2], "dense": _floats(rng, 6, -5, 0)},
            "prompt_alt_tokens": {
                "tokens": {"dtype": 3, "shape": [3, 2], "dense": _tokens(rng, 6)},
                "logprobs": {"dtype": 1, "shape": [3, 2], "dense": _floats(rng, 6, -5, 0)},
            },
        },
        {
            "name": "sparse_target_logprobs",
            "sequences": [],
            "target_prompt_logprobs": {
                "dtype": 1,
                "shape": [3, 4],
                "values": [-0.5, -1.5, -2.0],
                "crow": [0, 1, 1, 3],
                "col": [2, 0, 3],
            },
            "prompt_logprobs": [],
        },
        {
            "name": "empty_sequence",
            "sequences": [{"stop_reason": 0, "tokens": [], "logprobs": []}],
            "prompt_cache_hit_tokens": 2**31 - 1,
        },
        {
            "name": "topk_k_zero",
            "sequences": [
                {
                    "stop_reason": 0,
                    "tokens": [5],
                    "logprobs": [-1.0],
                    "topk": {"token_ids": [], "logprobs": [], "k": 0, "length": 1},
                }
            ],
        },
    ]


# ----------------------------------------------------------------------------------------------------
# inner mode: runs inside a venv with the official SDK installed


def _inner(version_key: str, out: Path) -> None:  # pragma: no cover - needs the official SDK
    import numpy as np
    import tinker  # type: ignore[import-not-found]
    from tinker import types as T
    from tinker.proto import request_conv  # type: ignore[import-not-found]

    def tensor(spec: dict[str, Any]) -> Any:
        np_dtype = np.int64 if spec["dtype"] == "int64" else np.float32
        return T.TensorData(
            data=np.asarray(spec["data"], dtype=np_dtype) if version_key == "038" else spec["data"],
            dtype=spec["dtype"],
            shape=spec["shape"],
            sparse_crow_indices=spec.get("sparse_crow_indices"),
            sparse_col_indices=spec.get("sparse_col_indices"),
        )

    def chunk(spec: dict[str, Any]) -> Any:
        if spec["type"] == "encoded_text":
            return T.EncodedTextChunk(tokens=spec["tokens"])
        if spec["type"] == "image":
            return T.ImageChunk(
                data=base64.b64decode(spec["data_b64"]), format=spec["format"], expected_tokens=spec["expected_tokens"]
            )
        return T.DmelChunk(dmel=base64.b64decode(spec["dmel_b64"]))

    def span(spec: dict[str, Any]) -> Any:
        cls = T.PromptProvenanceSpan if spec["kind"] == "prompt" else T.SampledProvenanceSpan
        return cls(sequence_id=spec["sequence_id"], offset=spec["offset"], length=spec["length"])

    def datum(spec: dict[str, Any]) -> Any:
        kw: dict[str, Any] = {
            "model_input": T.ModelInput(chunks=[chunk(c) for c in spec["chunks"]]),
            "loss_fn_inputs": {k: tensor(v) for k, v in spec["loss_fn_inputs"].items()},
        }
        if "model_input_spans" in spec:
            kw["model_input_spans"] = [span(s) for s in spec["model_input_spans"]]
            kw["loss_fn_input_spans"] = [span(s) for s in spec["loss_fn_input_spans"]]
        return T.Datum(**kw)

    req_dir = out / "requests" / version_key
    req_dir.mkdir(parents=True, exist_ok=True)
    table = []
    for case in request_cases(version_key):
        req = T.ForwardBackwardRequest(
            forward_backward_input=T.ForwardBackwardInput(
                data=[datum(d) for d in case["data"]], loss_fn=case["loss_fn"], loss_fn_config=case["loss_fn_config"]
            ),
            model_id=case["model_id"],
            seq_id=case["seq_id"],
        )
        msg = request_conv.forward_backward_request_to_proto(req)
        msg.forward_only = case["forward_only"]  # what resources/training.py does
        body = msg.SerializeToString()
        (req_dir / f"{case['name']}.bin").write_bytes(body)
        table.append({**case, "bin": f"requests/{version_key}/{case['name']}.bin"})
    # image_asset_pointer must be refused by the official writer too (recorded, not assumed)
    try:
        bad = T.ImageAssetPointerChunk(format="png", location="s3://x/y.png", expected_tokens=3)
        request_conv.forward_backward_request_to_proto(
            T.ForwardBackwardRequest(
                forward_backward_input=T.ForwardBackwardInput(
                    data=[T.Datum(model_input=T.ModelInput(chunks=[bad]), loss_fn_inputs={})], loss_fn="cross_entropy"
                ),
                model_id="m",
                seq_id=1,
            )
        )
        refused = False
    except ValueError:
        refused = True
    meta = {"sdk_version": tinker.__version__, "image_asset_pointer_refused": refused, "cases": table}
    (out / f"fwdbwd_request_{version_key}.json").write_text(json.dumps(meta, indent=1) + "\n")
    if version_key == "038":
        _inner_outputs(out)


def _td_json(td: Any) -> dict[str, Any]:  # pragma: no cover - needs the official SDK
    import numpy as np

    arr = td._numpy if hasattr(td, "_numpy") else np.asarray(td.data)
    data = [None if (isinstance(x, float) and math.isnan(x)) else x for x in arr.ravel().tolist()]
    return {
        "dtype": td.dtype,
        "shape": td.shape,
        "data": data,
        "sparse_crow_indices": td.sparse_crow_indices,
        "sparse_col_indices": td.sparse_col_indices,
    }


def _inner_outputs(out: Path) -> None:  # pragma: no cover - needs the official SDK
    import numpy as np
    from tinker.proto import response_conv
    from tinker.proto import tinker_public_pb2 as pb

    np_of = {1: np.float32, 2: np.int64, 3: np.int32, 4: np.uint16}
    (out / "outputs").mkdir(parents=True, exist_ok=True)

    table = []
    for case in fwdbwd_output_cases():
        msg = pb.ForwardBackwardOutput()
        msg.loss_fn_output_type = case["loss_fn_output_type"]
        for rec in case["records"]:
            r = msg.loss_fn_outputs.add()
            r.type_tag = rec["type_tag"]
            r.num_datums = rec["num_datums"]
            for name, f in rec["fields"].items():
                parts = [
                    np.asarray(d, dtype=np_of[f["dtype"]]).astype("<" + np.dtype(np_of[f["dtype"]]).str[1:]).tobytes()
                    for d in f["datums"]
                ]
                offs = [0]
                for p in parts:
                    offs.append(offs[-1] + len(p))
                bt = r.fields[name]
                bt.data = b"".join(parts)
                bt.offsets = np.asarray(offs, dtype="<i8").tobytes()
                bt.dtype = f["dtype"]
                bt.trailing_shape.extend(f["trailing_shape"])
        for k, v in case["metrics"].items():
            msg.metrics[k] = v
        body = msg.SerializeToString()
        (out / "outputs" / f"fbo_{case['name']}.bin").write_bytes(body)
        dec = response_conv.deserialize_forward_backward_output(body)
        logical = {
            "loss_fn_output_type": dec.loss_fn_output_type,
            "metrics": dec.metrics,
            "loss_fn_outputs": [{k: _td_json(v) for k, v in d.items()} for d in dec.loss_fn_outputs],
        }
        table.append({**case, "bin": f"outputs/fbo_{case['name']}.bin", "official_decoded": logical})
    (out / "fwdbwd_output.json").write_text(json.dumps({"cases": table}, indent=1) + "\n")

    def topk_msg(m: Any, spec: dict[str, Any]) -> None:
        m.token_ids = np.asarray(spec["token_ids"], dtype="<i4").tobytes()
        m.logprobs = np.asarray(spec["logprobs"], dtype="<f4").tobytes()
        m.k = spec["k"]
        m.length = spec["length"]

    def tensor_msg(m: Any, spec: dict[str, Any]) -> None:
        m.dtype = spec["dtype"]
        m.shape.extend(spec["shape"])
        npd = np.dtype(np_of[spec["dtype"]]).newbyteorder("<")
        if "dense" in spec:
            m.dense = np.asarray(spec["dense"], dtype=npd).tobytes()
        else:
            m.sparse_csr.values = np.asarray(spec["values"], dtype=npd).tobytes()
            m.sparse_csr.crow_indices = np.asarray(spec["crow"], dtype="<i8").tobytes()
            m.sparse_csr.col_indices = np.asarray(spec["col"], dtype="<i8").tobytes()

    table = []
    for case in sample_response_cases():
        msg = pb.SampleResponse()
        for s in case["sequences"]:
            sm = msg.sequences.add()
            if s["stop_reason"] is not None:
                sm.stop_reason = s["stop_reason"]
            sm.tokens = np.asarray(s["tokens"], dtype="<i4").tobytes()
            if s["logprobs"] is not None:
                sm.logprobs = np.asarray(s["logprobs"], dtype="<f4").tobytes()
            if s.get("topk") is not None:
                topk_msg(sm.topk_sampled_logprobs, s["topk"])
        if case.get("prompt_logprobs") is not None:
            msg.prompt_logprobs = np.asarray(
                [math.nan if x is None else x for x in case["prompt_logprobs"]], dtype="<f4"
            ).tobytes()
        if case.get("topk_prompt_logprobs") is not None:
            topk_msg(msg.topk_prompt_logprobs, case["topk_prompt_logprobs"])
        if case.get("prompt_cache_hit_tokens"):
            msg.prompt_cache_hit_tokens = case["prompt_cache_hit_tokens"]
        if case.get("target_prompt_logprobs") is not None:
            tensor_msg(msg.target_prompt_logprobs, case["target_prompt_logprobs"])
        if case.get("prompt_alt_tokens") is not None:
            tensor_msg(msg.prompt_alt_tokens.tokens, case["prompt_alt_tokens"]["tokens"])
            tensor_msg(msg.prompt_alt_tokens.logprobs, case["prompt_alt_tokens"]["logprobs"])
        body = msg.SerializeToString()
        (out / "outputs" / f"sample_{case['name']}.bin").write_bytes(body)
        dec = response_conv.deserialize_sample_response(body)

        def lists(rows: Any) -> Any:
            return None if rows is None else [None if r is None else [list(c) for c in r] for r in rows]

        logical = {
            "sequences": [
                {
                    "stop_reason": s.stop_reason,
                    "tokens": s.tokens,
                    "logprobs": s.logprobs,
                    "topk_logprobs": lists(s.topk_logprobs),
                }
                for s in dec.sequences
            ],
            "prompt_logprobs": dec.prompt_logprobs,
            "topk_prompt_logprobs": lists(dec.topk_prompt_logprobs),
            "prompt_cache_hit_tokens": dec.prompt_cache_hit_tokens,
            "target_prompt_logprobs": None
            if dec.target_prompt_logprobs is None
            else _td_json(dec.target_prompt_logprobs),
            "prompt_alt_tokens": None
            if dec.prompt_alt_tokens is None
            else {
                "tokens": _td_json(dec.prompt_alt_tokens.tokens),
                "logprobs": _td_json(dec.prompt_alt_tokens.logprobs),
            },
        }
        table.append({**case, "bin": f"outputs/sample_{case['name']}.bin", "official_decoded": logical})
    (out / "sample_response.json").write_text(json.dumps({"cases": table}, indent=1) + "\n")


# ----------------------------------------------------------------------------------------------------
# outer mode: venvs


def ensure_venv(root: Path, version: str) -> Path:
    env_dir = root / f"tinker-{version}"
    py = env_dir / "bin" / "python"
    probe = [str(py), "-c", f"import tinker,sys; sys.exit(tinker.__version__ != {version!r})"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    venv.create(env_dir, with_pip=True, clear=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"tinker=={version}"], check=True)
    return py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--venv-dir",
        type=Path,
        default=Path(
            os.environ.get("TINKERLITE_OFFICIAL_VENVS")
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinkerlite" / "official-venvs"
        ),
    )
    ap.add_argument("--out", type=Path, default=HERE / "proto")
    ap.add_argument("--versions", nargs="*", default=list(VERSIONS), choices=list(VERSIONS))
    ap.add_argument("--inner", choices=list(VERSIONS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        _inner(args.inner, args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for key in args.versions:
        py = ensure_venv(args.venv_dir, VERSIONS[key])
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run(
            [str(py), str(Path(__file__).resolve()), "--inner", key, "--out", str(args.out)],
            check=True,
            env=env,
            cwd="/",
        )
        print(f"wrote goldens for tinker=={VERSIONS[key]} into {args.out}")


if __name__ == "__main__":
    main()
