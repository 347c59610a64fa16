"""The SDK 0.38 surface against the local server over loopback HTTP: Dimuon end to end, the REST
methods (and their async twins) the server has routes for, and clear errors for those it lacks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import tinkerlite as tinker
from tinkerlite import types
from tinkerlite.local import serve

KEY = "tml-e2e-surface"
MODEL = "tinkerlite/tiny-chat"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as u:
        yield u


def _datum(tokens: list[int]) -> types.Datum:
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={"target_tokens": tokens[1:], "weights": [1.0] * (len(tokens) - 1)},
    )


DATA = [_datum(list(b"dimuon keeps momentum")), _datum(list(b"orthogonal updates"))]


def test_dimuon_run_trains_through_the_sdk_surface(url: str) -> None:
    sc = tinker.ServiceClient(base_url=url, api_key=KEY)
    tc = sc.create_lora_training_client(MODEL, rank=8, seed=3, optimizer=tinker.DimuonOptimizerConfig()).result(60)
    assert tc.get_info().optimizer_config == types.DimuonOptimizerConfig()  # typed, as the SDK's
    first = tc.forward_backward(DATA, "cross_entropy").result(timeout=60).metrics["loss:sum"]
    tc.optim_step(tinker.DimuonParams(learning_rate=0.02)).result(timeout=60)
    for _ in range(4):
        tc.forward_backward(DATA, "cross_entropy")
        tc.optim_step(tinker.DimuonParams(learning_rate=0.02)).result(timeout=60)
    last = tc.forward(DATA, "cross_entropy").result(timeout=60).metrics["loss:sum"]
    assert last < first
    with pytest.raises(tinker.RequestFailedError):  # a Dimuon run takes no Adam step
        tc.optim_step(tinker.AdamParams(learning_rate=1e-3)).result(timeout=60)
    sc.close("success").result(timeout=30)


def test_rest_methods_and_async_twins_against_the_local_server(url: str) -> None:
    sc = tinker.ServiceClient(base_url=url, api_key=KEY)
    tc = sc.create_lora_training_client(MODEL, rank=8, seed=4).result(timeout=60)
    path = tc.save_state("s1").result(timeout=60).path
    rest = sc.create_rest_client()

    async def twins() -> None:
        run = await rest.get_training_run_by_tinker_path_async(path)
        assert run.training_run_id == tc.model_id
        assert (await rest.list_training_runs_async(limit=5)).cursor.limit == 5
        assert any(c.tinker_path == path for c in (await rest.list_user_checkpoints_async()).checkpoints)
        session = sc.holder.session_id
        assert session is not None
        assert tc.model_id in (await rest.get_session_async(session)).training_run_ids
        assert session in (await rest.list_sessions_async()).sessions
        await rest.set_checkpoint_ttl_from_tinker_path_async(path, 7200)
        await rest.publish_checkpoint_from_tinker_path_async(path)
        await rest.unpublish_checkpoint_from_tinker_path_async(path)
        await rest.delete_checkpoint_from_tinker_path_async(path)

    asyncio.run(twins())
    with pytest.raises(RuntimeError, match="whoami requires JWT auth"):
        rest.whoami().result(timeout=30)  # the local server runs without JWT auth, like the SDK says
    sc.close("success").result(timeout=30)


def test_search_sessions_against_the_local_server(url: str) -> None:
    from tinkerlite.types.session_search_request import SessionSearchRequest
    from tinkerlite.types.session_status_query import ActiveSessionStatusQuery, ClientFinishedSessionStatusQuery

    clients = [
        tinker.ServiceClient({"team": "x"}, display_name=f"Nightly run {i}", base_url=url, api_key=KEY)
        for i in range(3)
    ]
    for c in clients:
        c.create_lora_training_client(MODEL, rank=8).result(timeout=60)  # starts each session
    clients[0].close("errored").result(timeout=30)
    rest = clients[1].create_rest_client()

    page = rest.search_sessions(SessionSearchRequest(display_name="nightly RUN", limit=2)).result(timeout=30)
    assert len(page.sessions) == 2 and page.next_cursor is not None
    rest_of = rest.search_sessions(SessionSearchRequest(display_name="nightly run", cursor=page.next_cursor))
    ids = [s.session_id for s in page.sessions] + [s.session_id for s in rest_of.result(timeout=30).sessions]
    assert sorted(ids) == sorted(c.holder.session_id for c in clients)  # newest first, each once
    assert page.sessions[0].created_at >= page.sessions[1].created_at

    active = rest.search_sessions(
        SessionSearchRequest(user_metadata={"team": "x"}, statuses=[ActiveSessionStatusQuery()])
    ).result(timeout=30)
    assert clients[0].holder.session_id not in {s.session_id for s in active.sessions}
    errored = rest.search_sessions(
        SessionSearchRequest(
            session_id=clients[0].holder.session_id, statuses=[ClientFinishedSessionStatusQuery(reasons=["errored"])]
        )
    ).result(timeout=30)
    assert [s.session_id for s in errored.sessions] == [clients[0].holder.session_id]
    assert type(errored.sessions[0].status).__name__ == "ClientSessionFinished"
    for c in clients[1:]:
        c.close("success").result(timeout=30)


def test_admin_client_against_the_local_server(url: str) -> None:
    from datetime import date

    sc = tinker.ServiceClient(base_url=url, api_key=KEY)
    tc = sc.create_lora_training_client(MODEL, rank=8, seed=5).result(timeout=60)
    tc.save_state("admin-probe").result(timeout=60)
    admin = tinker.AdminClient(base_url=url, api_key=KEY)
    usage = admin.get_current_checkpoint_storage_usage().result(timeout=30)
    assert usage.data[0].checkpoint_count >= 1 and usage.data[0].size_bytes > 0
    assert usage.data[0].estimated_monthly_cost_usd == 0.0
    assert admin.get_audit_log(day=date(2026, 1, 2)).result(timeout=30).entries == []
    billing = admin.get_billing_usage("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z").result(timeout=30)
    assert billing.data == []
    rest = sc.create_rest_client()  # the deprecated RestClient spellings reach the same routes
    assert rest.get_current_checkpoint_storage_usage().result(timeout=30).data[0].checkpoint_count >= 1
    sc.close("success").result(timeout=30)


def test_copy_weights_against_the_local_server(url: str) -> None:
    sc = tinker.ServiceClient(project_id="archive", base_url=url, api_key=KEY)
    tc = sc.create_lora_training_client(MODEL, rank=8, seed=6).result(timeout=60)
    tc.forward_backward(DATA, "cross_entropy")
    tc.optim_step(tinker.AdamParams(learning_rate=1e-2)).result(timeout=60)
    src = tc.save_state("to-copy").result(timeout=60).path
    copied = sc.copy_weights(src, ttl_seconds=7200).result(timeout=60)  # into this client's project
    assert copied.endswith("/weights/to-copy") and not copied.startswith(src.split("/weights/")[0])
    rest = sc.create_rest_client()
    ckpt = rest.list_checkpoints(tinker.ParsedCheckpointTinkerPath.from_tinker_path(copied).training_run_id)
    (only,) = ckpt.result(timeout=30).checkpoints
    assert only.tinker_path == copied and only.expires_at is not None
    clone = sc.create_training_client_from_state(copied).result(timeout=60)  # the copy loads like the source
    a = tc.forward(DATA, "cross_entropy").result(timeout=60).metrics["loss:sum"]
    b = clone.forward(DATA, "cross_entropy").result(timeout=60).metrics["loss:sum"]
    assert abs(a - b) < 1e-4
    with pytest.raises(tinker.NotFoundError):
        rest.copy_weights("tinker://nope/weights/x", "p").result(timeout=30)
    with pytest.raises(tinker.BadRequestError):
        rest.copy_weights(src.replace("/weights/", "/external_weights/"), "p").result(timeout=30)
    sc.close("success").result(timeout=30)
