import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.types import (
    Datum,
    DmelChunk,
    EncodedTextChunk,
    ImageChunk,
    ModelInput,
    PromptProvenanceSpan,
    SampledProvenanceSpan,
    TensorData,
)


def test_model_input_helpers() -> None:
    mi = ModelInput.from_ints([1, 2, 3])
    assert mi.length == 3 and mi.to_ints() == [1, 2, 3]
    mi2 = mi.append_int(4).append(EncodedTextChunk(tokens=[5]))
    assert mi2.to_ints() == [1, 2, 3, 4, 5]
    assert mi.to_ints() == [1, 2, 3]  # append returns a new value
    assert ModelInput.empty().length == 0


def test_image_chunk_length_and_to_ints() -> None:
    mi = ModelInput(chunks=[EncodedTextChunk(tokens=[1]), ImageChunk(data=b"\x89PNG", format="png", expected_tokens=4)])
    assert mi.length == 5
    with pytest.raises(ValidationError, match="text-only"):
        mi.to_ints()
    with pytest.raises(ValidationError, match="expected_tokens"):
        _ = ImageChunk(data=b"x", format="png").length
    with pytest.raises(ValidationError, match="format"):
        ImageChunk(data=b"x", format="gif")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tokens", "fragment"),
    [([2**31], "int32"), ([-1], "negative"), ([1.0], "not an int"), ("abc", "list of token ids")],
)
def test_token_ids_are_checked(tokens: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment) as ei:
        EncodedTextChunk(tokens=tokens)  # type: ignore[arg-type]
    assert ei.value.field == "EncodedTextChunk.tokens"


def test_dmel_length_reads_the_header() -> None:
    # dtype byte 1, ndim 2, dims 300 and 8 (300 as a two-byte varint)
    assert DmelChunk(dmel=bytes([1, 2, 0xAC, 0x02, 8])).length == 300
    assert DmelChunk(dmel=bytes([254, 1, 1, 7])).length == 7
    with pytest.raises(ValidationError):
        _ = DmelChunk(dmel=bytes([9])).length


def test_json_chunks_are_accepted() -> None:
    mi = ModelInput.from_json({"chunks": [{"type": "encoded_text", "tokens": [1, 2]}]})
    assert mi.to_ints() == [1, 2]
    assert mi.to_json() == {"chunks": [{"tokens": [1, 2], "type": "encoded_text"}]}


def test_datum_key_dtype_inference() -> None:
    d = Datum(
        model_input=ModelInput.from_ints([1, 2]),
        loss_fn_inputs={"target_tokens": [2, 3], "weights": [1, 0], "advantages": [0.5, -0.5], "mask": [1, 1]},
    )
    lfi = d.loss_fn_inputs
    assert lfi["target_tokens"].dtype == "int64"
    assert lfi["weights"].dtype == "float32" and lfi["weights"].data == [1.0, 0.0]
    assert lfi["advantages"].dtype == "float32"
    assert lfi["mask"].dtype == "int64"  # unknown key: inferred from the values
    assert lfi["target_tokens"].shape == [2]


def test_datum_bad_inputs() -> None:
    mi = ModelInput.from_ints([1])
    with pytest.raises(ValidationError, match="keys must be strings"):
        Datum(model_input=mi, loss_fn_inputs={1: [1]})  # type: ignore[dict-item]
    with pytest.raises(ValidationError, match="ragged") as ei:
        Datum(model_input=mi, loss_fn_inputs={"target_tokens": [[1, 2], [3]]})
    assert "target_tokens" in str(ei.value)
    with pytest.raises(ValidationError, match="unsupported value type"):
        Datum(model_input=mi, loss_fn_inputs={"weights": "abc"})
    with pytest.raises(ValidationError, match="ModelInput"):
        Datum(model_input=[1, 2])  # type: ignore[arg-type]


def test_datum_provenance_must_tile() -> None:
    d = Datum(model_input=ModelInput.from_ints([1, 2, 3]), loss_fn_inputs={"target_tokens": [2, 3, 4]})
    spans_in = [PromptProvenanceSpan(sequence_id="s", length=2), SampledProvenanceSpan(sequence_id="s", length=1)]
    d2 = d.with_provenance(spans_in, [SampledProvenanceSpan(sequence_id="s", length=3)])
    assert d2.model_input_spans == spans_in
    with pytest.raises(ValidationError, match="cover 2"):
        d.with_provenance([PromptProvenanceSpan(sequence_id="s", length=2)], spans_in)
    with pytest.raises(ValidationError, match="pair"):
        Datum(model_input=d.model_input, model_input_spans=spans_in)
    with pytest.raises(ValidationError):
        PromptProvenanceSpan(sequence_id="", length=1)


def test_datum_tensordata_passthrough_and_repr() -> None:
    td = TensorData(list(range(5000)), "int64")
    d = Datum(model_input=ModelInput.from_ints(list(range(5000))), loss_fn_inputs={"target_tokens": td})
    assert d.loss_fn_inputs["target_tokens"] is td
    assert len(repr(d)) < 200
