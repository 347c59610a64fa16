"""Wire details a conforming proto3 reader must accept, beyond what upb happens to write."""

from __future__ import annotations

from tinkerlite import types as T
from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request, encode_forward_backward_request
from tinkerlite.codec.protobuf import Writer
from tinkerlite.codec.results_proto import decode_forward_backward_output, decode_sample_response
from tinkerlite.codec.tensor_proto import decode_tensor, encode_tensor

from ._proto_helpers import golden_bytes, load_table


def test_unpacked_repeated_shape_is_accepted() -> None:
    w = Writer()
    w.bytes_field(1, (7).to_bytes(8, "little") * 6)
    w.varint(3, 2)
    w.varint(4, 2)  # shape as two unpacked varints instead of one packed run
    w.varint(4, 3)
    td = decode_tensor(memoryview(w.getvalue()), "t")
    assert td.shape == [2, 3] and td.data == [7] * 6


def test_buffer_types_and_zero_copy_inputs() -> None:
    case = load_table("fwdbwd_output.json")["cases"][0]
    raw = golden_bytes(case["bin"])
    a = decode_forward_backward_output(raw)
    assert decode_forward_backward_output(bytearray(raw)) == a
    assert decode_forward_backward_output(memoryview(raw)) == a
    sample = golden_bytes(load_table("sample_response.json")["cases"][0]["bin"])
    assert decode_sample_response(memoryview(bytearray(sample))) == decode_sample_response(sample)


def test_fields_out_of_order_and_repeated_scalars_last_wins() -> None:
    body = encode_forward_backward_request(
        [T.Datum(T.ModelInput.from_ints([5]), {"target_tokens": [6]})], "ppo", model_id="a", seq_id=3
    )
    extra = Writer()
    extra.string(4, "cross_entropy")  # a later loss_fn overrides, as in protobuf
    extra.varint(2, 9)
    msg = decode_forward_backward_request(body + extra.getvalue())
    assert msg.loss_fn == "cross_entropy" and msg.seq_id == 9 and len(msg.data) == 1


def test_oneof_last_arm_wins() -> None:
    dense = encode_tensor(T.TensorData([1.0, 2.0], "float32"), "t")  # no shape: repeated fields append
    csr = Writer()
    csr.bytes_field(1, b"\x00\x00\xc0\x3f")  # one float32 1.5
    csr.bytes_field(2, b"".join(i.to_bytes(8, "little") for i in (0, 1, 1)))
    csr.bytes_field(3, (1).to_bytes(8, "little"))
    w = Writer()
    w.message(2, csr)
    w.varint(3, 1)
    w.packed_varints(4, [2, 2])
    sparse = decode_tensor(memoryview(dense.getvalue() + w.getvalue()), "t")
    assert sparse.is_sparse and sparse.tolist() == [[0.0, 1.5], [0.0, 0.0]]


def test_empty_request_and_outputs() -> None:
    assert encode_forward_backward_request([], "", model_id="", seq_id=0) == b""
    msg = decode_forward_backward_request(b"")
    assert (msg.model_id, msg.seq_id, msg.data, msg.loss_fn, msg.loss_fn_config) == ("", 0, [], "", {})
    out = decode_forward_backward_output(b"")
    assert out.loss_fn_output_type == "ArrayRecord" and out.loss_fn_outputs == [] and out.metrics == {}
    assert decode_sample_response(b"").sequences == []
