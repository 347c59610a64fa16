"""SDK 0.38 client surface over loopback HTTP: the RestClient/AdminClient methods and their wire, whoami,
APIFuture.coroutine, the backcompat client futures, sampler handles and the Dimuon optimizer path."""

from __future__ import annotations

import asyncio
import inspect
import json
import warnings
from datetime import date, datetime, timezone
from typing import Any

import pytest

import tinkerlite
from tinkerlite import types
from tinkerlite.client import rest_client as rc

from .helpers import make_client
from .recording_server import API_KEY, RecordingServer, Reply, make_jwt


@pytest.fixture()
def server() -> Any:
    with RecordingServer() as srv:
        yield srv


def _rest(srv: RecordingServer) -> tinkerlite.RestClient:
    return tinkerlite.RestClient(rc.rest_holder(srv.url, API_KEY, heartbeat_period_s=0))


def test_every_async_twin_is_a_coroutine_of_its_sync_method() -> None:
    for cls in (tinkerlite.RestClient, tinkerlite.AdminClient, tinkerlite.ServiceClient, tinkerlite.TrainingClient):
        for name, fn in vars(cls).items():
            if name.endswith("_async") and not name.startswith("_"):
                assert inspect.iscoroutinefunction(fn), f"{cls.__name__}.{name}"
                assert name[: -len("_async")] in vars(cls), f"{cls.__name__}.{name} has no sync twin"


def test_whoami_reads_the_identity_jwt(server: RecordingServer) -> None:
    server.client_config["pjwt_auth_enabled"] = True
    jwt = make_jwt({"sub": "tml:user:u1", "org_id": "org9", "email": "a@b.c", "exp": 4_000_000_000})
    server.script("/api/v1/auth/token", Reply(200, {"jwt": jwt}))
    server.jwts.append(jwt)  # the recording server accepts the JWTs it handed out
    rest = _rest(server)
    who = rest.whoami().result(timeout=10)
    assert who == types.WhoamiResponse(user_urn="tml:user:u1", org_urn="tml:organization:org9", email="a@b.c")
    rest.close()


def test_whoami_without_jwt_auth_says_why(server: RecordingServer) -> None:
    rest = _rest(server)
    with pytest.raises(RuntimeError, match="whoami requires JWT auth"):
        rest.whoami().result(timeout=10)
    rest.close()


def test_copy_weights_body_header_and_result(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.script("/api/v1/copy_weights", Reply(200, {"tinker_path": "tinker://new/weights/a"}))
    rest = _rest(server)
    out = rest.copy_weights("tinker://r/weights/a", "proj", ttl_seconds=7200, weights_access_token="tok").result(10)
    assert out == "tinker://new/weights/a"
    call = server.calls("/api/v1/copy_weights")[-1]
    assert call.json == {"source_path": "tinker://r/weights/a", "destination_project_id": "proj", "ttl_seconds": 7200}
    assert call.headers["x-tinker-weights-access-token"] == "tok"
    monkeypatch.delenv("TINKER_PROJECT_ID", raising=False)
    with pytest.raises(ValueError, match="destination_project_id"):
        rest.copy_weights("tinker://r/weights/a")
    rest.close()


def test_search_sessions_and_trace_export(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite.types.search_owner import AccessibleSearchOwner
    from tinkerlite.types.session_search_request import SessionSearchRequest

    server.script(
        "/api/v1/sessions/search",
        Reply(
            200,
            {
                "sessions": [
                    {
                        "session_id": "s1",
                        "created_at": "2026-01-01T00:00:00Z",
                        "owner": "tml:user:u1",
                        "project_id": "p",
                        "checkpoints_count": 0,
                        "status": {"type": "active"},
                    }
                ]
            },
        ),
    )
    rest = _rest(server)
    req = SessionSearchRequest(display_name="nightly", owner=AccessibleSearchOwner())
    page = rest.search_sessions(req).result(timeout=10)
    assert page.sessions[0].session_id == "s1" and type(page.sessions[0].status).__name__ == "SessionActive"
    body = server.calls("/api/v1/sessions/search")[-1].json
    assert body["display_name"] == "nightly" and body["owner"]["type"] == "accessible" and body["limit"] == 50
    with pytest.raises(TypeError, match="SessionSearchRequest"):
        rest.search_sessions({"display_name": "x"})  # type: ignore[arg-type]

    monkeypatch.setattr(rc, "TRACE_EXPORT_POLL_S", 0.01)
    path = "/api/v1/sessions/s1/trace_export"
    server.script(path, Reply(200, {"status": "pending"}), Reply(200, {"status": "ready", "url": "https://x/t"}))
    assert rest.export_session_trace("s1").result(timeout=10) == "https://x/t"
    assert len(server.calls(path)) == 2
    server.script(path, Reply(200, {"status": "failed", "error": "nope"}))
    with pytest.raises(RuntimeError, match="nope"):
        rest.export_session_trace("s1").result(timeout=10)
    rest.close()


def test_admin_client_queries(server: RecordingServer) -> None:
    server.script("/api/v1/audit", Reply(200, {"entries": []}))
    server.script("/api/v1/billing/usage/events", Reply(200, {"data": []}))
    server.script(
        "/api/v1/billing/usage/checkpoints/current",
        Reply(200, {"data": [], "total_checkpoint_count": 0, "total_size_bytes": 0}),
    )
    rest = _rest(server)
    rest.get_audit_log("checkpoints", date(2026, 1, 15)).result(timeout=10)
    assert server.calls("/api/v1/audit")[-1].query == "event_type=checkpoints&day=2026-01-15"
    start = datetime(2026, 7, 13, tzinfo=timezone.utc)
    rest.get_billing_usage(start, "2026-07-14T00:00:00Z").result(timeout=10)
    q = server.calls("/api/v1/billing/usage/events")[-1].query
    assert q == "starting_on=2026-07-13T00%3A00%3A00Z&ending_before=2026-07-14T00%3A00%3A00Z"
    with pytest.raises(ValueError, match="timezone"):
        rest.get_billing_usage(datetime(2026, 1, 1), start)
    with pytest.raises(ValueError, match="event_type"):
        rest.get_audit_log("everything")  # type: ignore[arg-type]
    admin = tinkerlite.AdminClient(_holder=rest.holder)
    admin.get_current_checkpoint_storage_usage("p1").result(timeout=10)
    assert server.calls("/api/v1/billing/usage/checkpoints/current")[-1].query == "project_id=p1"
    rest.close()


def test_external_weights_urls_path_and_check(server: RecordingServer) -> None:
    route = "/api/v1/training_runs/r1/checkpoints/external_weights/w/external_weights_urls"
    server.script(route, Reply(200, {"urls": {"adapter_model.safetensors": "https://x"}, "expires": "2026-01-01"}))
    rest = _rest(server)
    assert rest.get_external_weights_urls("tinker://r1/external_weights/w").result(timeout=10).urls
    with pytest.raises(ValueError, match="external weights"):
        rest.get_external_weights_urls("tinker://r1/weights/w")
    rest.close()


def test_coroutine_backcompat_futures_and_dimuon_wire(server: RecordingServer) -> None:
    sc = make_client(server)
    fut = sc.create_lora_training_client("Base/Model", optimizer=types.DimuonOptimizerConfig())
    assert isinstance(fut, tinkerlite.BackcompatTrainingClientFuture)
    assert isinstance(fut, tinkerlite.TrainingClient) and isinstance(fut, tinkerlite.APIFuture)
    tc = asyncio.run(_await_coroutine(fut))
    assert isinstance(tc, tinkerlite.TrainingClient) and not isinstance(tc, tinkerlite.APIFuture)
    sent = server.calls("/api/v1/create_model")[-1].json
    assert sent["optimizer_config"] == {"type": "dimuon", "version": 1}
    from tinkerlite.types.create_model_request import CreateModelRequest

    expected = CreateModelRequest(  # the record byte-compared with the SDK's dump in test_optimizer_wire_official
        session_id=sent["session_id"],
        model_seq_id=sent["model_seq_id"],
        base_model="Base/Model",
        lora_config=types.LoraConfig(rank=32),
        optimizer_config=types.DimuonOptimizerConfig(),
    )
    assert json.dumps(sent) == json.dumps(expected.to_json())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fut.get_info() is not None  # forwards, deprecated
    assert any(issubclass(w.category, FutureWarning) for w in caught)

    tc.optim_step(types.DimuonParams(learning_rate=0.01)).result(timeout=10)
    body = server.calls("/api/v1/optim_step")[-1].json
    step = types.OptimStepRequest(optim_params=types.DimuonParams(learning_rate=0.01), model_id=tc.model_id, seq_id=1)
    assert json.dumps(body) == json.dumps(step.to_json())
    assert body["optimizer_params"] == {"type": "dimuon", "learning_rate": 0.01, "grad_clip_norm": 0.0, "beta1": 0.9}
    assert "adam_params" not in body
    with pytest.raises(TypeError, match="AdamParams or OptimParamsBase"):
        tc.optim_step({"learning_rate": 1e-3})
    with pytest.raises(TypeError, match="OptimizerConfig"):
        sc.create_lora_training_client("Base/Model", optimizer={"type": "adamw"})  # type: ignore[arg-type]

    samp = tc.create_sampling_client("tinker://x/sampler_weights/a")
    assert isinstance(samp, tinkerlite.BackcompatSamplingClientFuture)
    client = samp.result(timeout=10)
    handle = client.get_sampler_handle()
    assert API_KEY not in handle
    clone = tinkerlite.SamplingClient.from_sampler_handle(handle, api_key=API_KEY)
    assert clone.sampling_session_id == client.sampling_session_id
    with pytest.raises(ValueError, match="sampler handle"):
        tinkerlite.SamplingClient.from_sampler_handle("bm90IGpzb24=")
    assert sc.get_console_url().endswith(f"/sessions/{sc.holder.session_id}")
    assert tc.get_console_url().endswith(f"/training_runs/{tc.model_id}")
    sc.close().result(timeout=10)


async def _await_coroutine(fut: Any) -> Any:
    return await asyncio.create_task(fut.coroutine())


def test_create_custom_loss_names_the_missing_piece(server: RecordingServer) -> None:
    sc = make_client(server)
    with pytest.raises(NotImplementedError, match=r"torch\.fx"):
        sc.create_custom_loss(lambda lp: (lp.sum(), {}), {"logprobs": 1})
    sc.close().result(timeout=10)


def test_auth_helpers(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("TINKER_CREDENTIAL_CMD", raising=False)
    monkeypatch.delenv("TINKER_API_KEY", raising=False)
    assert tinkerlite.auth.get_tinker_token() is None
    assert tinkerlite.auth.tinker_has_credentials() is False
    with pytest.raises(tinkerlite.TinkerError):
        tinkerlite.auth.raise_if_tinker_not_accessible()
    monkeypatch.setenv("TINKER_API_KEY", API_KEY)
    assert tinkerlite.auth.get_tinker_token() == API_KEY
    assert tinkerlite.auth.tinker_has_credentials() is True


def test_raise_if_tinker_not_accessible_against_a_server(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINKER_BASE_URL", server.url)
    monkeypatch.setenv("TINKER_API_KEY", API_KEY)
    server.script("/api/v1/get_server_capabilities", Reply(200, {"supported_models": []}))
    tinkerlite.auth.raise_if_tinker_not_accessible()
    server.script("/api/v1/get_server_capabilities", Reply(402, {"detail": "set up billing"}))
    with pytest.raises(tinkerlite.BillingError):
        tinkerlite.auth.raise_if_tinker_not_accessible()
    assert len(server.calls("/api/v1/get_server_capabilities")) == 2  # not retried


class _SlowSecondChunk:
    """Reports the second forward_backward POST as sent, then holds it back: requests on separate
    connections can overtake each other in flight, which is what a pipelining client must not rely on."""

    def __init__(self) -> None:
        from tinkerlite.client.transport import PooledTransport

        self.inner = PooledTransport()
        self.fwdbwd = 0

    def request(self, method: str, url: str, headers: Any, body: bytes | None, timeout: float) -> Any:
        import time

        from tinkerlite.client.transport import notify_sent

        if url.endswith("/api/v1/forward_backward"):
            self.fwdbwd += 1
            if self.fwdbwd == 2:
                notify_sent()
                time.sleep(0.3)
        return self.inner.request(method, url, headers, body, timeout)


def test_serial_chunks_arrive_in_order_even_when_one_is_slow_in_flight() -> None:
    """Regression: with parallel_fwdbwd_chunks off, chunk 3 once arrived before chunk 2 ([1, 3, 2])."""
    from tinkerlite.client.service_client import ServiceClient

    from .test_loopback import datum, seq_ids

    with RecordingServer(client_config={"fwdbwd_max_chunk_len": 1, "parallel_fwdbwd_chunks": False}) as srv:
        sc = ServiceClient(
            base_url=srv.url, api_key=API_KEY, transport=_SlowSecondChunk(), _holder_options={"heartbeat_period_s": 0}
        )
        tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
        tc.forward([datum([1]), datum([2]), datum([3])], "cross_entropy").result(timeout=10)
        assert seq_ids(srv, "/api/v1/forward_backward") == [1, 2, 3]
        sc.close().result(timeout=10)
