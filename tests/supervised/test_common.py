import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinkerlite.errors import ValidationError
from tinkerlite.supervised.common import (
    compute_bpb,
    compute_mean_nll,
    create_rightshifted_model_input_and_leftshifted_targets,
    datum_from_model_input_weights,
)
from tinkerlite.types import EncodedTextChunk, ImageChunk, ModelInput, ModelInputChunk, TensorData


def test_mean_nll_hand_case() -> None:
    lps = [TensorData([-1.0, -2.0], "float32"), TensorData([-4.0], "float32")]
    ws = [TensorData([1.0, 0.5], "float32"), TensorData([2.0], "float32")]
    # -(−1·1 − 2·0.5 − 4·2) / (1 + 0.5 + 2) = 10 / 3.5
    assert compute_mean_nll(lps, ws) == pytest.approx(10 / 3.5)
    assert math.isnan(compute_mean_nll(lps, [TensorData([0.0, 0.0], "float32"), TensorData([0.0], "float32")]))
    with pytest.raises(ValidationError, match="datum 0"):
        compute_mean_nll([[-1.0]], [[1.0, 1.0]])


def test_bpb_counts_bytes_of_trained_non_special_tokens(tokenizer) -> None:  # type: ignore[no-untyped-def]
    # tokens: "ab" (trained), <|eos|> (special, trained weight but excluded), "c" (untrained)
    targets = [ord("a"), ord("b"), tokenizer.eos_token_id, ord("c")]
    lps = [[-1.0, -1.0, -5.0, -7.0]]
    ws = [[0.5, 0.5, 1.0, 0.0]]
    assert compute_bpb(lps, ws, [targets], tokenizer) == pytest.approx(2.0 / (math.log(2) * 2))


def test_shift_with_images() -> None:
    chunks: list[ModelInputChunk] = [
        EncodedTextChunk(tokens=[1, 2]),
        ImageChunk(data=b"x", format="png", expected_tokens=2),
        EncodedTextChunk(tokens=[3, 4]),
    ]
    mi, targets = create_rightshifted_model_input_and_leftshifted_targets(chunks)
    assert mi.length == 5
    assert targets == [2, 0, 0, 3, 4]
    with pytest.raises(ValidationError, match="last chunk must be text"):
        create_rightshifted_model_input_and_leftshifted_targets(chunks[:2])
    with pytest.raises(ValidationError, match="at least 2 tokens"):
        create_rightshifted_model_input_and_leftshifted_targets([EncodedTextChunk(tokens=[1])])


def test_datum_truncation_and_reduction() -> None:
    mi = ModelInput(chunks=[EncodedTextChunk(tokens=[1, 2, 3]), EncodedTextChunk(tokens=[4, 5, 6])])
    weights = [0, 0, 1, 1, 1, 1]
    d = datum_from_model_input_weights(mi, weights, max_length=4, reduction="none")
    assert d.model_input.to_ints() == [1, 2, 3]
    assert d.loss_fn_inputs["target_tokens"].data == [2, 3, 4]
    assert d.loss_fn_inputs["weights"].data == [0.0, 1.0, 1.0]
    m = datum_from_model_input_weights(mi, weights, reduction="mean")
    assert sum(m.loss_fn_inputs["weights"].data) == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="reduction"):
        datum_from_model_input_weights(mi, weights, reduction="sum")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="6-token input"):
        datum_from_model_input_weights(mi, [1, 1])


def test_truncation_drops_whole_images_and_empty_chunks() -> None:
    mi = ModelInput(
        chunks=[
            EncodedTextChunk(tokens=[1, 2]),
            EncodedTextChunk(tokens=[]),
            ImageChunk(data=b"x", format="png", expected_tokens=3),
        ]
    )
    d = datum_from_model_input_weights(mi, [1, 1, 1, 1, 1], max_length=4)
    assert d.model_input.to_ints() == [1]
    assert d.loss_fn_inputs["target_tokens"].data == [2]


@given(st.lists(st.integers(0, 255), min_size=2, max_size=60), st.integers(2, 80))
def test_property_targets_are_inputs_shifted(tokens: list[int], max_length: int) -> None:
    weights = [float(i % 2) for i in range(len(tokens))]
    d = datum_from_model_input_weights(ModelInput.from_ints(tokens), weights, max_length=max_length)
    kept = tokens[: min(len(tokens), max_length)]
    assert d.model_input.to_ints() == kept[:-1]
    assert d.loss_fn_inputs["target_tokens"].data == kept[1:]
    assert d.loss_fn_inputs["weights"].data == weights[1 : len(kept)]
