"""The SDK 0.38 types added for the full ``tinker.types`` surface: optimizer families, the optim-step wire
record, discriminated unions, enums and the per-submodule import paths."""

from __future__ import annotations

import importlib
import math
import pkgutil
from datetime import datetime, timezone

import pytest

import tinkerlite
import tinkerlite.types as T
from tinkerlite.errors import ProtocolError, ValidationError


def test_every_types_submodule_imports_and_defines_its_all() -> None:
    names = [m.name for m in pkgutil.walk_packages(T.__path__, "tinkerlite.types.") if "._" not in m.name]
    assert len(names) >= 109
    for name in names:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            assert hasattr(mod, attr), f"{name}.{attr}"


def test_submodules_are_attributes_of_the_package_as_in_the_sdk() -> None:
    assert tinkerlite.types.sampling_params.SamplingParams is T.SamplingParams
    assert tinkerlite.types.datum.Datum is T.Datum
    with pytest.raises(AttributeError):
        _ = tinkerlite.types.no_such_module


def test_top_level_has_every_sdk_name() -> None:
    for name in (
        "AdamOptimizerConfig",
        "Checkpoint",
        "StopReason",
        "TensorDtype",
        "RequestOptions",
        "auth",
        "LossHandle",
        "PerDatumLossFn",
        "Timeout",
        "ExperimentalWarning",
        "ModelID",
        "OptimParams",
    ):
        assert getattr(tinkerlite, name) is not None
    assert issubclass(tinkerlite.ExperimentalWarning, FutureWarning)
    assert tinkerlite.__title__ == "tinkerlite"


# ---- optimizer families ----------------------------------------------------------------------------------


def test_optimizer_configs_wire_and_validation() -> None:
    assert T.AdamOptimizerConfig().to_json() == {"type": "adamw"}
    assert T.DimuonOptimizerConfig().to_json() == {"type": "dimuon", "version": 1}
    with pytest.raises(ValidationError, match="version"):
        T.DimuonOptimizerConfig(version=2)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="adamw"):
        T.AdamOptimizerConfig(type="sgd")  # type: ignore[arg-type]
    base = T.optimizer.OptimizerConfigBase.from_json({"type": "lion", "beta": 0.5})
    assert type(base) is T.optimizer.OptimizerConfigBase and base.to_json() == {"type": "lion", "beta": 0.5}
    assert base.beta == 0.5  # an unknown family keeps its fields
    assert isinstance(T.optimizer.OptimizerConfigBase.from_json({"type": "dimuon"}), T.DimuonOptimizerConfig)
    with pytest.raises(AttributeError):
        T.DimuonOptimizerConfig().type = "x"  # type: ignore[misc]
    assert T.DimuonOptimizerConfig() == T.DimuonOptimizerConfig() and hash(T.AdamOptimizerConfig())


def test_dimuon_params_validation_names_the_field() -> None:
    p = T.DimuonParams(learning_rate=0.02)
    assert p.to_json() == {"type": "dimuon", "learning_rate": 0.02, "grad_clip_norm": 0.0, "beta1": 0.9}
    assert isinstance(p, T.optimizer.OptimParamsBase)
    with pytest.raises(TypeError):
        T.DimuonParams()  # type: ignore[call-arg]  # learning_rate is required, as in the SDK
    for kwargs, field in (
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"learning_rate": 0.1, "beta1": 1.0}, "beta1"),
        ({"learning_rate": 0.1, "grad_clip_norm": math.inf}, "grad_clip_norm"),
    ):
        with pytest.raises(ValidationError) as ei:
            T.DimuonParams(**kwargs)  # type: ignore[arg-type]
        assert field in str(ei.value)


def test_optim_step_request_uses_the_family_key() -> None:
    adam = T.OptimStepRequest(optim_params=T.AdamParams(learning_rate=1e-3), model_id="m", seq_id=3)
    assert adam.to_json() == {
        "model_id": "m",
        "seq_id": 3,
        "type": "optim_step",
        "adam_params": T.AdamParams(learning_rate=1e-3).to_json(),
    }
    dimuon = T.OptimStepRequest(optim_params=T.DimuonParams(learning_rate=0.5), model_id="m")
    out = dimuon.to_json()
    assert "adam_params" not in out and out["optimizer_params"]["type"] == "dimuon"
    for key in ("optim_params", "adam_params", "optimizer_params"):
        back = T.OptimStepRequest.from_json({"model_id": "m", key: out["optimizer_params"]})
        assert back.optim_params == dimuon.optim_params
    assert isinstance(T.OptimStepRequest.from_json({"model_id": "m", "adam_params": {}}).optim_params, T.AdamParams)
    with pytest.raises(ProtocolError, match="optim_params"):
        T.OptimStepRequest.from_json({"model_id": "m"})


# ---- records, unions, enums ------------------------------------------------------------------------------


def test_discriminated_unions_parse_by_type_and_state() -> None:
    from tinkerlite.types.futures_retrieve_response import FuturesRetrieveResponse
    from tinkerlite.types.session_status import SessionFailed, SessionFailedTrainingRunReason

    s = SessionFailed.from_json(
        {"category": "user", "message": "boom", "reason": {"type": "training_run", "training_run_id": "r1"}}
    )
    assert isinstance(s.reason, SessionFailedTrainingRunReason) and s.reason.training_run_id == "r1"
    with pytest.raises(ProtocolError, match="unknown variant"):
        SessionFailed.from_json({"category": "user", "message": "x", "reason": {"type": "nope"}})
    fr = FuturesRetrieveResponse.from_json(
        {"completions": [{"state": "finished", "request_id": "a"}, {"state": "failed", "request_id": "b"}], "cursor": 2}
    )
    assert [type(c).__name__ for c in fr.completions] == ["FutureFinished", "FutureFailed"]


def test_new_records_roundtrip_with_datetimes_and_nesting() -> None:
    from tinkerlite.types.billing_usage_response import BillingUsageResponse, StorageBillingEvent

    raw = {
        "data": [
            {
                "bucket_start": "2026-01-01T00:00:00Z",
                "bucket_end": "2026-01-01T01:00:00Z",
                "event_info": {"type": "storage", "gigabyte_hours": 1.5},
            }
        ]
    }
    r = BillingUsageResponse.from_json(raw)
    ev = r.data[0]
    assert ev.bucket_start == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert isinstance(ev.event_info, StorageBillingEvent) and ev.event_info.gigabyte_hours == 1.5
    assert ev.event_info.free is False
    assert r.sessions == {}
    assert T.WhoamiResponse(user_urn="u", org_urn="o").to_json() == {"user_urn": "u", "org_urn": "o"}


def test_request_error_category_is_a_str_enum_like_the_sdk() -> None:
    assert T.RequestErrorCategory.User == "user"
    assert T.RequestErrorCategory("server") is T.RequestErrorCategory.Server


def test_console_urls() -> None:
    r = T.SaveWeightsResponse(path="tinker://run-1/weights/step 1")
    assert r.get_console_url() == "https://tinker.thinkingmachines.ai/checkpoints/run-1/weights%2Fstep%201"
    s = T.SaveWeightsForSamplerResponse(path="tinker://run-1/sampler_weights/a")
    assert s.get_playground_url().endswith("checkpoint=tinker%3A%2F%2Frun-1%2Fsampler_weights%2Fa")
    with pytest.raises(ValueError, match="ephemeral"):
        T.SaveWeightsForSamplerResponse(sampling_session_id="x").get_console_url()


def test_timeout_follows_httpx_rules() -> None:
    t = tinkerlite.Timeout(5.0, connect=1)
    assert t.as_dict() == {"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    assert tinkerlite.Timeout(None).read is None
    assert tinkerlite.Timeout(t) == t
    assert tinkerlite.Timeout((1, 2, 3, 4)).pool == 4.0
    with pytest.raises(ValueError, match="missing"):
        tinkerlite.Timeout(connect=1.0)
    with pytest.raises(ValueError, match="read"):
        tinkerlite.Timeout(5.0, read=-1)


def test_wire_records_check_field_types_and_name_the_field() -> None:
    from tinkerlite.types.session_search_request import SessionSearchRequest
    from tinkerlite.types.session_search_response import SessionSearchResponse

    with pytest.raises(ValidationError, match=r"SessionSearchRequest\.limit: expected int"):
        SessionSearchRequest(limit="50")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"SessionSearchRequest\.owner"):
        SessionSearchRequest(owner={"type": "nobody"})  # type: ignore[arg-type]
    req = SessionSearchRequest(owner={"type": "user", "owner_urns": ["u"]})  # type: ignore[arg-type]
    assert type(req.owner).__name__ == "UserSearchOwner"  # a JSON object is parsed, as pydantic does
    with pytest.raises(ValidationError, match=r"CopyWeightsRequest\.ttl_seconds"):
        T.copy_weights_request.CopyWeightsRequest(source_path="p", destination_project_id="d", ttl_seconds=1.5)
    with pytest.raises(ProtocolError, match="SessionSearchCursor"):
        SessionSearchResponse.from_json({"sessions": [], "next_cursor": 3})


def test_sdk_field_constraints_are_enforced() -> None:
    from tinkerlite.types.search_owner import UserSearchOwner
    from tinkerlite.types.session_search_request import SessionSearchRequest

    with pytest.raises(ValidationError, match=r"SessionSearchRequest\.limit: must be <= 200"):
        SessionSearchRequest(limit=500)
    with pytest.raises(ValidationError, match=r"SessionSearchRequest\.display_name: needs at least 1"):
        SessionSearchRequest(display_name="")
    with pytest.raises(ValidationError, match=r"UserSearchOwner\.owner_urns: takes at most 10"):
        UserSearchOwner(owner_urns=[f"u{i}" for i in range(11)])
    assert SessionSearchRequest(limit=200).limit == 200


def test_pydantic_methods_user_code_calls() -> None:
    from tinkerlite.types.session_search_cursor import SessionSearchCursor
    from tinkerlite.types.session_search_request import SessionSearchRequest

    req = SessionSearchRequest(display_name="nightly")
    cur = SessionSearchCursor(last_created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), last_session_id="s")
    nxt = req.model_copy(update={"cursor": cur})  # the SDK's documented paging idiom
    assert nxt.cursor == cur and req.cursor is None
    assert nxt.model_dump(mode="json", exclude_none=True)["cursor"]["last_created_at"].startswith("2026-01-01")
    assert nxt.model_dump()["cursor"]["last_created_at"] == cur.last_created_at  # python mode keeps objects
    assert SessionSearchRequest.model_validate_json(nxt.model_dump_json()) == nxt
    with pytest.raises(ValidationError, match="limit"):
        req.model_copy(update={"limit": 0})
    mi = T.ModelInput.from_ints([1, 2])
    assert T.ModelInput.model_validate(mi.model_dump(mode="json")) == mi
    assert T.DimuonParams(learning_rate=0.1).model_copy(update={"beta1": 0.5}).beta1 == 0.5
    assert T.AdamParams().model_dump()["beta2"] == 0.95


def test_numpy_views_of_sample_results() -> None:
    np = pytest.importorskip("numpy")
    seq = T.SampledSequence(stop_reason="stop", tokens=[5, 6], logprobs=[-0.5, -0.25])
    assert seq.tokens_np.dtype == np.int32 and seq.tokens_np.tolist() == [5, 6]
    assert seq.logprobs_np.dtype == np.float32 and seq.logprobs_np.tolist() == [-0.5, -0.25]
    assert T.SampledSequence(stop_reason="length", tokens=[1]).logprobs_np is None
    resp = T.SampleResponse(sequences=[seq], prompt_logprobs=[None, -1.0])
    assert np.isnan(resp.prompt_logprobs_np[0]) and resp.prompt_logprobs_np[1] == -1.0
