"""Benchmark the protobuf codec against the official SDK (tinker==0.38.0, in a throwaway venv).

Workload (from the foundation issue): encode a 64 x 2048-token ``cross_entropy`` ForwardBackwardRequest
and decode its ForwardBackwardOutput (float32 ``logprobs`` per datum). Every timing is the median of
``--repeats`` runs in one process; the official SDK runs in a subprocess of the same invocation, on the
same inputs (written to a temp dir), so the ratios compare like with like on the same machine.

    python bench/bench_codec.py                 # creates ~/.cache/tinkerlite/official-venvs/tinker-0.38.0 on first use
    python bench/bench_codec.py --no-official   # tinkerlite only

Rows: ``encode (prebuilt)`` serialises ready-made Datum objects; ``build+encode`` also constructs the
objects from Python lists (what a training loop pays per step); ``build+encode (numpy in)`` starts from
numpy arrays. JSON rows time the legacy JSON body (section 5.7) with orjson vs the stdlib.

Each side's timed region ends at the request body its transport sends unchanged: the SDK's
``SerializeToString()`` bytes; tinkerlite's ``encode_forward_backward_body`` pieces (a ``Body``: framing
bytes plus views of the stored arrays, never joined; ``PooledTransport`` writes them with ``sendmsg``).
Neither side's HTTP send is timed.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import venv
from array import array
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._interleave import Worker, interleave, median_pair, timed  # noqa: E402
from tinkerlite import types as T  # noqa: E402
from tinkerlite.backend import set_backend  # noqa: E402
from tinkerlite.codec import json_codec  # noqa: E402
from tinkerlite.codec.body import Body  # noqa: E402
from tinkerlite.codec.fwdbwd_proto import encode_forward_backward_body  # noqa: E402
from tinkerlite.codec.results_proto import (  # noqa: E402
    decode_forward_backward_output,
    encode_forward_backward_output,
)
from tinkerlite.types.outputs import tensor_to_json  # noqa: E402

OFFICIAL_VERSION = "0.38.0"

OFFICIAL_SCRIPT = r"""
import json, statistics, sys, time
from pathlib import Path
import numpy as np
from tinker import types as T
from tinker.proto import request_conv, response_conv

d = Path(sys.argv[1]); B, S = int(sys.argv[2]), int(sys.argv[3])
toks = np.fromfile(d / "tokens.i32", dtype="<i4").reshape(B, S + 1)
weights = np.fromfile(d / "weights.f32", dtype="<f4").reshape(B, S)
fbo_body = (d / "fbo.bin").read_bytes()
tok_lists = [row.tolist() for row in toks]
w_lists = [row.tolist() for row in weights]

def build_lists():
    return [T.Datum(model_input=T.ModelInput(chunks=[T.EncodedTextChunk(tokens=t[:-1])]),
                    loss_fn_inputs={"target_tokens": T.TensorData(data=t[1:], dtype="int64", shape=[S]),
                                    "weights": T.TensorData(data=w, dtype="float32", shape=[S])})
            for t, w in zip(tok_lists, w_lists)]

def build_numpy():
    return [T.Datum(model_input=T.ModelInput(chunks=[T.EncodedTextChunk(tokens=t[:-1].tolist())]),
                    loss_fn_inputs={"target_tokens": T.TensorData.from_numpy(t[1:].astype(np.int64)),
                                    "weights": T.TensorData.from_numpy(w)})
            for t, w in zip(toks, weights)]

def encode(data):
    req = T.ForwardBackwardRequest(
        forward_backward_input=T.ForwardBackwardInput(data=data, loss_fn="cross_entropy"),
        model_id="bench:train:0", seq_id=1)
    return request_conv.forward_backward_request_to_proto(req).SerializeToString()

prebuilt = build_lists()
body = encode(prebuilt)
FNS = {
    "encode_prebuilt": lambda: encode(prebuilt),
    "build_encode_lists": lambda: encode(build_lists()),
    "build_encode_numpy": lambda: encode(build_numpy()),
    "decode_fbo": lambda: response_conv.deserialize_forward_backward_output(fbo_body),
    "decode_fbo_to_lists": lambda: [o["logprobs"].tolist() for o in
                                    response_conv.deserialize_forward_backward_output(fbo_body).loss_fn_outputs],
}
_serve(FNS, {"request_bytes": len(body)})
"""


def ensure_official(venv_dir: Path) -> Path:
    env_dir = venv_dir / f"tinker-{OFFICIAL_VERSION}"
    py = env_dir / "bin" / "python"
    probe = [str(py), "-c", f"import tinker,sys; sys.exit(tinker.__version__ != {OFFICIAL_VERSION!r})"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    venv.create(env_dir, with_pip=True, clear=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"tinker=={OFFICIAL_VERSION}"], check=True)
    return py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument(
        "--venv-dir",
        type=Path,
        default=Path(
            os.environ.get("TINKERLITE_OFFICIAL_VENVS")
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinkerlite" / "official-venvs"
        ),
    )
    ap.add_argument("--no-official", action="store_true")
    args = ap.parse_args()
    b, s, reps = args.batch, args.seq, args.repeats

    rng = random.Random(0)
    tok_lists = [[rng.randrange(151_000) for _ in range(s + 1)] for _ in range(b)]
    w_lists = [[float(rng.random() < 0.6) for _ in range(s)] for _ in range(b)]

    def build_lists() -> list[T.Datum]:
        return [
            T.Datum(
                T.ModelInput([T.EncodedTextChunk(t[:-1])]),
                {"target_tokens": T.TensorData(t[1:], "int64", [s]), "weights": T.TensorData(w, "float32", [s])},
            )
            for t, w in zip(tok_lists, w_lists, strict=True)
        ]

    def encode(data: list[T.Datum]) -> Body:
        # What TrainingClient hands PooledTransport, which writes the pieces as they are (sendmsg on a
        # plain socket, piece by piece over TLS); the SDK's timed region ends at SerializeToString()'s
        # bytes, which its transport likewise sends as they are.
        return encode_forward_backward_body(data, "cross_entropy", model_id="bench:train:0", seq_id=1)

    prebuilt = build_lists()
    body = encode(prebuilt).tobytes()

    # ForwardBackwardOutput body: float32 logprobs per datum, written by our server-side encoder
    lp = [array("f", [-(i % 97) / 13.0 for i in range(s)]) for _ in range(b)]
    fbo = T.ForwardBackwardOutput(
        "ArrayRecord", [{"logprobs": T.TensorData(a, "float32", [s])} for a in lp], {"loss:sum": 1.0}
    )
    fbo_body = encode_forward_backward_output(fbo)

    backends = []
    for backend in ("pure", "numpy"):
        try:
            set_backend(backend)
            backends.append(backend)
        except ImportError:
            continue
    fns: dict[str, Callable[[], object]] = {
        "encode_prebuilt": lambda: encode(prebuilt),
        "build_encode_lists": lambda: encode(build_lists()),
        "decode_fbo": lambda: decode_forward_backward_output(fbo_body),
        "decode_fbo_to_lists": lambda: [
            o["logprobs"].data for o in decode_forward_backward_output(fbo_body).loss_fn_outputs
        ],
    }
    if "numpy" in backends:
        import numpy as np

        toks_np = np.asarray(tok_lists, dtype=np.int64)
        w_np = np.asarray(w_lists, dtype=np.float32)

        def build_numpy() -> list[T.Datum]:
            return [
                T.Datum(
                    T.ModelInput([T.EncodedTextChunk(t[:-1].tolist())]),
                    {"target_tokens": T.TensorData.from_numpy(t[1:]), "weights": T.TensorData.from_numpy(w)},
                )
                for t, w in zip(toks_np, w_np, strict=True)
            ]

        fns["build_encode_numpy"] = lambda: encode(build_numpy())

    def ours(backend: str, key: str) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            set_backend(backend)
            return timed(fns[key])

        return run

    with ExitStack() as stack:
        worker: Worker | None = None
        if not args.no_official:
            py = ensure_official(args.venv_dir)
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            d = Path(tmp)
            array("i", [t for row in tok_lists for t in row]).tofile((d / "tokens.i32").open("wb"))
            array("f", [w for row in w_lists for w in row]).tofile((d / "weights.f32").open("wb"))
            (d / "fbo.bin").write_bytes(fbo_body)
            worker = stack.enter_context(Worker(py, OFFICIAL_SCRIPT, [tmp, str(b), str(s)]))
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
        for key in fns:
            contenders = {
                f"tinkerlite-{be}": ours(be, key) for be in backends if key != "build_encode_numpy" or be == "numpy"
            }
            if worker is not None:
                contenders["official-sdk"] = partial(worker.timed, key)
            samples[key] = interleave(contenders, reps)
        official_bytes = worker.info.get("request_bytes") if worker is not None else None

    results: dict[str, dict[str, Any]] = {}
    for key, by_name in samples.items():
        for name, runs in by_name.items():
            results.setdefault(name, {})[key] = list(median_pair(runs))
    official = results.pop("official-sdk", None)
    if official is not None:
        official["request_bytes"] = official_bytes

    # Legacy JSON body (section 5.7): orjson vs stdlib, where the JSON codec matters
    legacy = {
        "forward_backward_input": {
            "data": [
                {
                    "model_input": d.model_input.to_json(),
                    "loss_fn_inputs": {k: tensor_to_json(v) for k, v in d.loss_fn_inputs.items()},
                }
                for d in prebuilt
            ],
            "loss_fn": "cross_entropy",
        },
        "model_id": "bench:train:0",
        "seq_id": 1,
    }
    json_rows: dict[str, Any] = {}
    saved = (json_codec._orjson, json_codec._checked)
    impls = {name: mod for name, mod in (("orjson", json_codec._fast()), ("stdlib", None)) if name == "stdlib" or mod}
    json_codec._orjson, json_codec._checked = None, True
    blob = json_codec.dumps(legacy)
    json_rows["json_bytes"] = len(blob)

    def json_run(mod: Any, fn: Callable[[], object]) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            json_codec._orjson, json_codec._checked = mod, True
            return timed(fn)

        return run

    for op, fn in (("dumps", lambda: json_codec.dumps(legacy)), ("loads", partial(json_codec.loads, blob))):
        runs = interleave({name: json_run(mod, fn) for name, mod in impls.items()}, max(3, reps // 3))
        for name, samples_ in runs.items():
            json_rows[f"json_{op}_{name}"] = list(median_pair(samples_))
    json_codec._orjson, json_codec._checked = saved

    print(f"workload: {b} datums x {s} tokens cross_entropy; request {len(body):,} bytes; "
          f"ForwardBackwardOutput {len(fbo_body):,} bytes; median of {reps} interleaved rounds; "
          f"load average {os.getloadavg()}")  # fmt: skip
    if official:
        print(f"official tinker=={OFFICIAL_VERSION} request bytes: {official['request_bytes']:,}")
    keys = ["encode_prebuilt", "build_encode_lists", "build_encode_numpy", "decode_fbo", "decode_fbo_to_lists"]
    rows = [*results.items(), *([("official-sdk", official)] if official else [])]
    for stat, idx in (("wall ms", 0), ("cpu ms", 1)):
        print(f"\nmedian {stat:8}" + " " * 9 + "".join(f"{k:>22}" for k in keys))
        for name, row in rows:
            cells = "".join(f"{row[k][idx] * 1e3:>22.2f}" if k in row else f"{'-':>22}" for k in keys)
            print(f"{name:24}{cells}")
        if official:
            for name, row in results.items():
                cells = "".join(
                    f"{official[k][idx] / row[k][idx]:>21.2f}x" if k in row and k in official else f"{'-':>22}"
                    for k in keys
                )
                print(f"{'speed-up ' + name.split('-')[1]:24}{cells}")
        if official:
            print(f"ratio lines (tinkerlite / official, {stat}; below 1 is faster):")
            for name, row in results.items():
                for k in keys:
                    if k in row and k in official:
                        print(f"  {name} {k}: {row[k][idx] / official[k][idx]:.2f}")
    print()
    for k, v in json_rows.items():
        print(f"{k:24}{v:>22,}" if k == "json_bytes" else f"{k:24}{v[0] * 1e3:>19.2f} ms (median)")
    if "json_dumps_orjson" in json_rows:
        dumps = json_rows["json_dumps_stdlib"][0] / json_rows["json_dumps_orjson"][0]
        loads = json_rows["json_loads_stdlib"][0] / json_rows["json_loads_orjson"][0]
        print(f"orjson vs stdlib speed-up: dumps {dumps:.2f}x, loads {loads:.2f}x")


if __name__ == "__main__":
    main()
