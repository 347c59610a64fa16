"""Decoding a ForwardBackwardOutput adopts the decoder's own arrays (no copy, no re-validation): the
result must still be exactly what the general constructor gives, one independent array per datum."""

from __future__ import annotations

from array import array

import pytest

from tinkerlite.codec.results_proto import decode_forward_backward_output, encode_forward_backward_output
from tinkerlite.errors import ValidationError
from tinkerlite.types import ForwardBackwardOutput, TensorData


def test_decoded_tensors_equal_constructed_ones() -> None:
    outs = [
        {
            "logprobs": TensorData([-0.5 * i, -1.25, float("-inf")], "float32", [3]),
            "top": TensorData([[1, 2], [3, 4]], "int64", [2, 2]),
        }
        for i in range(4)
    ]
    got = decode_forward_backward_output(encode_forward_backward_output(ForwardBackwardOutput("ArrayRecord", outs, {})))
    for want, have in zip(outs, got.loss_fn_outputs, strict=True):
        for name in want:
            assert have[name].dtype == want[name].dtype and have[name].shape == want[name].shape
            assert have[name].tolist() == want[name].tolist()
    flats = [o["logprobs"].dense_flat() for o in got.loss_fn_outputs]
    assert len({id(f) for f in flats}) == len(flats)  # one array per datum, never a shared view


def test_adopt_dense_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValidationError):
        TensorData._adopt_dense(array("d", [1.0]), "float32", [1])  # wrong typecode
    with pytest.raises(ValidationError):
        TensorData._adopt_dense(array("f", [1.0, 2.0]), "float32", [3])  # shape does not hold the values
    t = TensorData._adopt_dense(array("q", [1, 2, 3, 4]), "int64", [2, 2])
    assert t.tolist() == [[1, 2], [3, 4]]
