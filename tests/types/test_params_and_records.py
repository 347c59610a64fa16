from datetime import datetime, timezone

import pytest

from tinkerlite.errors import ProtocolError, ValidationError
from tinkerlite.types import (
    AdamParams,
    Checkpoint,
    GetInfoResponse,
    LoraConfig,
    ParsedCheckpointTinkerPath,
    RequestFailedResponse,
    SampledSequence,
    SampleResponse,
    SamplingParams,
    TopkLogprobs,
    TrainingRun,
    UntypedAPIFuture,
)


def test_official_defaults() -> None:
    assert AdamParams().to_json() == {
        "learning_rate": 0.0001,
        "beta1": 0.9,
        "beta2": 0.95,
        "eps": 1e-12,
        "weight_decay": 0.0,
        "grad_clip_norm": 0.0,
    }
    assert SamplingParams().to_json() == {"temperature": 1.0, "top_k": -1, "top_p": 1.0}
    assert SamplingParams(stop=[]).to_json()["stop"] == []


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: AdamParams(learning_rate=float("nan")), "AdamParams.learning_rate"),
        (lambda: AdamParams(beta1=1.5), "AdamParams.beta1"),
        (lambda: SamplingParams(temperature=-1), "SamplingParams.temperature"),
        (lambda: SamplingParams(top_k=0), "SamplingParams.top_k"),
        (lambda: SamplingParams(max_tokens=-3), "SamplingParams.max_tokens"),
        (lambda: SamplingParams(stop=["a", 1]), "SamplingParams.stop"),
        (lambda: LoraConfig(rank=0), "LoraConfig.rank"),
        (lambda: LoraConfig(rank=8, train_attn=False, train_mlp=False, train_unembed=False), "LoraConfig"),
    ],
)
def test_bad_params(factory: object, field: str) -> None:
    with pytest.raises(ValidationError) as ei:
        factory()  # type: ignore[operator]
    assert ei.value.field == field


def test_records_ignore_unknown_and_require_required() -> None:
    f = UntypedAPIFuture.from_json({"request_id": "r1", "new_field": 3})
    assert f.request_id == "r1" and f.model_id is None
    assert f.to_json() == {"request_id": "r1"}
    with pytest.raises(ProtocolError, match="request_id"):
        UntypedAPIFuture.from_json({"model_id": "m"})
    info = GetInfoResponse.from_json({"model_data": {"model_name": "x"}, "model_id": "s:train:0"})
    assert info.model_data.model_name == "x"


def test_checkpoint_datetimes_and_nested() -> None:
    ck = {
        "checkpoint_id": "weights/a",
        "checkpoint_type": "training",
        "time": "2026-01-02T03:04:05Z",
        "tinker_path": "tinker://s:train:0/weights/a",
    }
    run = TrainingRun.from_json(
        {
            "training_run_id": "s:train:0",
            "base_model": "m",
            "model_owner": "me",
            "is_lora": True,
            "last_request_time": "2026-01-02T03:04:05+00:00",
            "last_checkpoint": ck,
        }
    )
    assert isinstance(run.last_checkpoint, Checkpoint)
    assert run.last_checkpoint.time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert Checkpoint.from_json(run.last_checkpoint.to_json()) == run.last_checkpoint
    with pytest.raises(ProtocolError, match="datetime"):
        Checkpoint.from_json({**ck, "time": "yesterday"})


def test_request_failed_unknown_category_maps_to_unknown() -> None:
    assert RequestFailedResponse.from_json({"error": "x", "category": "user_error"}).category == "unknown"


def test_tinker_path_parsing() -> None:
    p = ParsedCheckpointTinkerPath.from_tinker_path("tinker://s:train:0/sampler_weights/final")
    assert (p.training_run_id, p.checkpoint_type, p.checkpoint_id) == ("s:train:0", "sampler", "sampler_weights/final")
    for bad in ["tinker://a/b", "http://a/weights/b", "tinker://a/other/b", "tinker://a/weights/b/c"]:
        with pytest.raises(ValidationError):
            ParsedCheckpointTinkerPath.from_tinker_path(bad)


def test_topk_tables() -> None:
    rows = [None, [(5, -0.1), (7, -2.0)], [(3, -0.5)]]
    t = TopkLogprobs.from_lists(rows)
    assert t.k == 2 and t.length == 3
    back = t.to_lists()
    assert back[0] is None and back[2] == [(3, -0.5)]
    assert back[1] is not None and back[1][0][0] == 5


def test_sample_response_json_never_has_nan() -> None:
    r = SampleResponse(
        sequences=[SampledSequence(stop_reason="length", tokens=[1, 2], logprobs=[-0.5, -1.0])],
        prompt_logprobs=[None, float("nan"), -1.0],
    )
    js = r.to_json()
    assert js["prompt_logprobs"] == [None, None, -1.0]
    assert SampleResponse.from_json(js).sequences[0].tokens == [1, 2]
