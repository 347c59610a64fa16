"""The request encoder's one-piece framing of text chunks and 1-D tensors equals the generic Writer framing.

The golden tests compare whole requests with the SDK's bytes; this one walks the edge sizes of the framing
(empty token lists and tensors, varint length boundaries, several chunks, 2-D tensors on the generic path).
"""

from __future__ import annotations

import random

import pytest

from tinkerlite import types as T
from tinkerlite.codec import fwdbwd_proto as F
from tinkerlite.codec.protobuf import Writer
from tinkerlite.codec.tensor_proto import encode_tensor


def _generic(datum: T.Datum) -> bytes:
    w = Writer()
    for chunk in datum.model_input.chunks:
        w.message(1, F._encode_chunk(chunk, "chunk"))
    for name, td in datum.loss_fn_inputs.items():
        entry = Writer()
        entry.string(1, name)
        body = Writer()
        body.bytes_field(1, td.to_bytes())
        body.varint(3, 2 if td.dtype == "int64" else 1)
        body.packed_varints(4, td.resolved_shape)
        entry.message(2, body if len(td.resolved_shape) == 1 else encode_tensor(td, name))
        w.message(2, entry)
    return w.getvalue()


@pytest.mark.parametrize("n", [0, 1, 5, 15, 16, 127, 128, 300, 4096, 20000])
@pytest.mark.parametrize("k", [0, 1, 3])
def test_one_piece_framing_matches_the_writer(n: int, k: int) -> None:
    rng = random.Random(n * 7 + k)
    chunks = [T.EncodedTextChunk([rng.randrange(2**31) for _ in range(rng.choice([0, n]))]) for _ in range(k)]
    d = T.Datum(
        T.ModelInput(chunks),
        {
            "target_tokens": T.TensorData([rng.randrange(-5, 2**40) for _ in range(n)], "int64", [n]),
            "wé": T.TensorData([0.5] * n, "float32", [n]),
            "m": T.TensorData([[1.0, 2.0], [3.0, 4.0]], "float32"),
        },
    )
    got = F._encode_datum(d, "d")
    assert got.getvalue() == _generic(d)
    assert got.size == len(got.getvalue())
