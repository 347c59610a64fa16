"""The client against the recording loopback server: what goes on the wire, in which order."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time

import pytest

from tinkerlite import types
from tinkerlite._exceptions import AuthenticationError, PermissionDeniedError, RequestFailedError, TinkerError
from tinkerlite.client import RestClient, ServiceClient

from .helpers import FakeClock, make_client
from .recording_server import API_KEY, RecordingServer, Reply, fake_logprob


def datum(tokens: list[int], weights: list[float] | None = None) -> types.Datum:
    inputs: dict[str, object] = {"target_tokens": [t + 1 for t in tokens]}
    if weights is not None:
        inputs["weights"] = weights
    return types.Datum(model_input=types.ModelInput.from_ints(tokens), loss_fn_inputs=inputs)


def seq_ids(srv: RecordingServer, path: str) -> list[int]:
    return [r.proto.seq_id if r.proto is not None else r.json["seq_id"] for r in srv.calls(path)]


def test_startup_handshake_and_session(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKER_TAGS", "exp1")
    sc = ServiceClient(
        user_metadata={"who": "me"},
        project_id="proj",
        base_url=server.url,
        api_key=API_KEY,
        _holder_options={"heartbeat_period_s": 0},
    )
    tc = sc.create_lora_training_client("Base/Model", rank=4, seed=3, train_attn=False).result(timeout=10)
    assert tc.model_id == "sess-1:train:0"
    paths = [r.path for r in server.records]
    assert paths[:6] == [
        "/api/v1/client/config",
        "/api/v1/client/dynamic_config",
        "/api/v1/create_session",
        "/api/v1/create_model",
        "/api/v1/retrieve_future",
        "/api/v1/get_info",
    ]
    assert server.calls("/api/v1/client/config")[0].json == {"sdk_version": "0.38.0"}
    assert server.calls("/api/v1/create_session")[0].json == {
        "tags": ["exp1"],
        "user_metadata": {"who": "me"},
        "sdk_version": "0.38.0",
        "project_id": "proj",
        "type": "create_session",
    }
    assert server.calls("/api/v1/create_model")[0].json == {
        "session_id": "sess-1",
        "model_seq_id": 0,
        "base_model": "Base/Model",
        "lora_config": {"rank": 4, "seed": 3, "train_unembed": True, "train_mlp": True, "train_attn": False},
        "optimizer_config": {"type": "adamw"},
        "type": "create_model",
    }
    poll = server.calls("/api/v1/retrieve_future")[0]
    assert poll.headers["x-tinker-request-type"] == "CreateModel"
    assert poll.headers["accept"] == "application/json"
    assert tc.get_info().model_data.model_name == "Base/Model"
    sc.close().result(timeout=10)
    fin = server.calls("/api/v1/sessions/sess-1/finish")[0]
    assert fin.json == {"reason": {"type": "success"}, "detail": None}


def test_common_headers(server: RecordingServer) -> None:
    sc = make_client(server)
    sc.create_lora_training_client("Base/Model").result(timeout=10)
    sc.close().result(timeout=10)
    for r in server.records:
        assert r.headers["x-api-key"] == API_KEY
        assert r.headers["user-agent"].startswith("AsyncTinker/Python 0.38.0")
        assert r.headers["x-stainless-retry-count"] == "0"
        assert r.headers["x-idempotency-key"].startswith("stainless-python-retry-")
        assert r.headers["x-sdk-version"] == "0.38.0"
    keys = [r.headers["x-idempotency-key"] for r in server.records]
    assert len(set(keys)) == len(keys)  # one key per logical call
    cm = server.calls("/api/v1/create_model")[0]
    assert cm.headers["x-sdk-method"] == "ServiceClient.create_lora_training_client"


def test_chunked_forward_backward_and_pipelined_optim() -> None:
    with RecordingServer(client_config={"fwdbwd_max_chunk_len": 2}) as srv:
        srv.hold_fwdbwd_until_optim = True
        sc = make_client(srv)
        tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
        data = [datum([i, i + 1, i + 2], [1.0, 0.5, 0.0]) for i in range(5)]
        fb = tc.forward_backward(data, "cross_entropy", {"clip": 0.2})
        opt = tc.optim_step(types.AdamParams(learning_rate=3e-4))
        out = fb.result(timeout=20)
        assert opt.result(timeout=20).metrics == {"lr:mean": pytest.approx(3e-4)}
        assert srv.hold_timeouts == 0  # optim_step went out while the results were still held
        posts = [r for r in srv.records if r.path in ("/api/v1/forward_backward", "/api/v1/optim_step")]
        order = [p.proto.seq_id if p.proto else p.json["seq_id"] for p in posts]
        # chunks 2..N go out together (any order among them), the first chunk last, then optim_step
        assert sorted(order[:2]) == [2, 3] and order[2:] == [1, 4]
        assert {p.proto.seq_id: len(p.proto.data) for p in posts[:3]} == {1: 2, 2: 2, 3: 1}
        for p in posts[:3]:
            assert p.headers["content-type"] == "application/x-protobuf"
            assert p.proto.loss_fn == "cross_entropy" and p.proto.forward_only is False
            assert p.proto.loss_fn_config == {"clip": pytest.approx(0.2)}
            assert p.proto.model_id == tc.model_id
        assert posts[3].json == {
            "model_id": tc.model_id,
            "seq_id": 4,
            "type": "optim_step",
            "adam_params": {
                "learning_rate": 3e-4,
                "beta1": 0.9,
                "beta2": 0.95,
                "eps": 1e-12,
                "weight_decay": 0.0,
                "grad_clip_norm": 0.0,
            },
        }
        assert srv.applied[tc.model_id] == [1, 2, 3, 4]
        # results come back in datum order, metrics reduced across chunks
        for i, o in enumerate(out.loss_fn_outputs):
            assert o["logprobs"].data == pytest.approx([fake_logprob(t) for t in [i + 1, i + 2, i + 3]])
        expected = sum(-(1.0 * fake_logprob(i + 1) + 0.5 * fake_logprob(i + 2)) for i in range(5))
        assert out.metrics["loss:sum"] == pytest.approx(expected, rel=1e-6)
        assert out.metrics["n:mean"] == pytest.approx((2 * 2 + 2 * 2 + 1 * 1) / 5)
        polls = [
            r for r in srv.calls("/api/v1/retrieve_future") if r.headers["x-tinker-request-type"] == "ForwardBackward"
        ]
        assert polls and all(r.headers["accept"] == "application/x-protobuf" for r in polls)
        opt_polls = [
            r for r in srv.calls("/api/v1/retrieve_future") if r.headers["x-tinker-request-type"] == "OptimStep"
        ]
        assert opt_polls and all(r.headers["accept"] == "application/json" for r in opt_polls)
        sc.close().result(timeout=10)


def test_serial_chunks_when_parallel_disabled() -> None:
    with RecordingServer(client_config={"fwdbwd_max_chunk_len": 1, "parallel_fwdbwd_chunks": False}) as srv:
        sc = make_client(srv)
        tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
        tc.forward([datum([1]), datum([2]), datum([3])], "cross_entropy").result(timeout=10)
        assert seq_ids(srv, "/api/v1/forward_backward") == [1, 2, 3]
        assert all(r.proto.forward_only for r in srv.calls("/api/v1/forward_backward"))
        sc.close().result(timeout=10)


def test_chunk_bytes_limit_and_zstd() -> None:
    pytest.importorskip("zstandard")
    cfg = {"fwdbwd_max_chunk_bytes_count": 400, "proto_compress_fwdbwd": True}
    with RecordingServer(client_config=cfg) as srv:
        sc = make_client(srv)
        tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
        data = [datum(list(range(10))) for _ in range(5)]  # 10*4 + 10*8 = 120 bytes each
        out = tc.forward_backward(data, "cross_entropy").result(timeout=10)
        assert len(out.loss_fn_outputs) == 5
        posts = srv.calls("/api/v1/forward_backward")
        assert sorted(len(p.proto.data) for p in posts) == [2, 3]
        assert all(p.headers["content-encoding"] == "zstd" for p in posts)
        sc.close().result(timeout=10)


def test_many_training_calls_are_each_submitted_once(server: RecordingServer) -> None:
    """Submissions overlap (each goes out once the previous is on the wire), so arrival order may
    differ from seq order; every seq id still arrives exactly once."""
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    futs = []
    for i in range(20):
        futs.append(tc.forward_backward([datum([i])], "cross_entropy"))
        futs.append(tc.optim_step(types.AdamParams()))
    for f in futs:
        f.result(timeout=20)
    posted = [
        r.proto.seq_id if r.proto else r.json["seq_id"]
        for r in server.records
        if r.path in ("/api/v1/forward_backward", "/api/v1/optim_step")
    ]
    assert sorted(posted) == list(range(1, 41))
    sc.close().result(timeout=10)


def test_strict_submit_order_matches_the_official_sdk(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_STRICT_SUBMIT_ORDER", "1")
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    futs = []
    for i in range(20):
        futs.append(tc.forward_backward([datum([i])], "cross_entropy"))
        futs.append(tc.optim_step(types.AdamParams()))
    for f in futs:
        f.result(timeout=20)
    posted = [
        r.proto.seq_id if r.proto else r.json["seq_id"]
        for r in server.records
        if r.path in ("/api/v1/forward_backward", "/api/v1/optim_step")
    ]
    assert posted == list(range(1, 41))
    sc.close().result(timeout=10)


def test_saves_loads_and_sampling(server: RecordingServer) -> None:
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    assert tc.save_state("ckpt", ttl_seconds=3600).result(timeout=10).path == f"tinker://{tc.model_id}/weights/ckpt"
    assert tc.load_state_with_optimizer(f"tinker://{tc.model_id}/weights/ckpt").result(timeout=10).path.endswith("ckpt")
    named = tc.save_weights_for_sampler("s1").result(timeout=10)
    assert named.path == f"tinker://{tc.model_id}/sampler_weights/s1"
    samp = tc.save_weights_and_get_sampling_client().result(timeout=10)
    assert samp.sampling_session_id == "sess-1:sample:0"
    prompt = types.ModelInput.from_ints([5, 6, 7])
    resp = samp.sample(prompt, 3, types.SamplingParams(max_tokens=2, temperature=0.5, stop=["\n"])).result(timeout=10)
    assert [s.sequence_id for s in resp.sequences] == [f"sess-1:sample:0:0:{i}" for i in range(3)]
    lps = samp.compute_logprobs(prompt).result(timeout=10)
    assert lps == [None, pytest.approx(fake_logprob(6)), pytest.approx(fake_logprob(7))]
    saves = server.calls("/api/v1/save_weights")
    assert saves[0].json == {
        "model_id": tc.model_id,
        "path": "ckpt",
        "seq_id": 1,
        "ttl_seconds": 3600,
        "overwrite": False,
        "type": "save_weights",
    }
    assert server.calls("/api/v1/load_weights")[0].json == {
        "model_id": tc.model_id,
        "path": f"tinker://{tc.model_id}/weights/ckpt",
        "seq_id": 2,
        "optimizer": True,
        "type": "load_weights",
    }
    sfs = server.calls("/api/v1/save_weights_for_sampler")
    assert sfs[0].json == {
        "model_id": tc.model_id,
        "path": "s1",
        "seq_id": 3,
        "kind": "snapshot",
        "type": "save_weights_for_sampler",
    }
    assert sfs[1].json == {
        "model_id": tc.model_id,
        "seq_id": 4,
        "sampling_session_seq_id": 0,
        "kind": "snapshot",
        "type": "save_weights_for_sampler",
    }
    samples = server.calls("/api/v1/asample")
    assert samples[0].json == {
        "num_samples": 3,
        "prompt": {"chunks": [{"tokens": [5, 6, 7], "type": "encoded_text"}]},
        "sampling_params": {"max_tokens": 2, "stop": ["\n"], "temperature": 0.5, "top_k": -1, "top_p": 1.0},
        "sampling_session_id": "sess-1:sample:0",
        "seq_id": 0,
        "prompt_logprobs": False,
        "topk_prompt_logprobs": 0,
        "topk_sample_logprobs": 0,
        "prompt_alt_tokens_k": 0,
        "record_stability_info": False,
        "type": "sample",
    }
    assert samples[1].json["seq_id"] == 1 and samples[1].json["prompt_logprobs"] is True
    assert samples[1].json["sampling_params"]["max_tokens"] == 1
    assert all(r.headers["x-tinker-sampling-backpressure"] == "1" for r in samples)
    # a second sampling client gets the next sampling_session_seq_id and starts its seq ids at 0
    other = sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    other.sample(prompt, 1, types.SamplingParams(max_tokens=1)).result(timeout=10)
    assert server.calls("/api/v1/create_sampling_session")[0].json == {
        "session_id": "sess-1",
        "sampling_session_seq_id": 1,
        "base_model": "Base/Model",
        "type": "create_sampling_session",
    }
    assert server.calls("/api/v1/asample")[-1].json["seq_id"] == 0
    sc.close().result(timeout=10)


def test_create_from_state(server: RecordingServer) -> None:
    sc = make_client(server)
    sc.create_lora_training_client("Base/Model").result(timeout=10)
    tc = sc.create_training_client_from_state_with_optimizer("tinker://x/weights/y").result(timeout=10)
    assert tc.model_id == "sess-1:train:1"
    assert server.calls("/api/v1/load_weights")[0].json == {
        "session_id": "sess-1",
        "model_seq_id": 1,
        "path": "tinker://x/weights/y",
        "optimizer": True,
        "type": "load_weights",
    }
    tc.optim_step(types.AdamParams()).result(timeout=10)
    assert server.calls("/api/v1/optim_step")[0].json["seq_id"] == 1
    sc.close().result(timeout=10)


def test_asample_429_backpressure_resubmits_same_seq(server: RecordingServer, fake_clock: FakeClock) -> None:
    sc = make_client(server, fake_clock)
    samp = sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    server.script("/api/v1/asample", Reply(429, {"detail": "slow down"}), Reply(429, {"detail": "slow down"}))
    resp = samp.sample(types.ModelInput.from_ints([1, 2]), 1, types.SamplingParams(max_tokens=1)).result(timeout=10)
    assert len(resp.sequences) == 1
    assert [r.json["seq_id"] for r in server.calls("/api/v1/asample")] == [0, 0, 0]
    assert sum(fake_clock.sleeps) >= 2.0  # 1 s holder-wide back-off after each 429 (small prompt)
    sc.close().result(timeout=10)


def test_http_layer_retry_reuses_idempotency_key(server: RecordingServer, fake_clock: FakeClock) -> None:
    sc = make_client(server, fake_clock)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    server.script(
        "/api/v1/optim_step", Reply(503, {"detail": "busy"}), Reply(429, {"detail": "x"}, {"Retry-After": "7"})
    )
    tc.optim_step(types.AdamParams()).result(timeout=10)
    calls = server.calls("/api/v1/optim_step")
    assert len(calls) == 3
    assert len({c.headers["x-idempotency-key"] for c in calls}) == 1
    assert [c.headers["x-stainless-retry-count"] for c in calls] == ["0", "1", "2"]
    assert 7.0 in fake_clock.sleeps
    sc.close().result(timeout=10)


def test_holder_layer_retry_for_saves_uses_new_keys(server: RecordingServer, fake_clock: FakeClock) -> None:
    sc = make_client(server, fake_clock)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    server.script("/api/v1/save_weights", Reply(500, {"detail": "x"}), Reply(502, {"detail": "x"}))
    tc.save_state("a").result(timeout=10)
    calls = server.calls("/api/v1/save_weights")
    assert len(calls) == 3 and len({c.headers["x-idempotency-key"] for c in calls}) == 3  # max_retries=0 at HTTP
    assert all(c.json["seq_id"] == 1 for c in calls)
    assert fake_clock.sleeps[-2:] == [1.0, 2.0]
    sc.close().result(timeout=10)


def test_future_poll_table_end_to_end(server: RecordingServer, fake_clock: FakeClock) -> None:
    sc = make_client(server, fake_clock)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    server.script(
        "/api/v1/retrieve_future",
        Reply(200, {"type": "try_again", "request_id": "x", "queue_state": "active"}),
        Reply(408, {"type": "try_again", "queue_state": "active"}),
        Reply(502, b"bad gateway", {"Content-Type": "text/plain"}),
        Reply(429, {"detail": "slow"}),
        Reply(400, b""),
        Reply(200, {"status": "complete_metadata", "response_payload_size": 10}),
    )
    fake_clock.sleeps.clear()
    assert tc.optim_step(types.AdamParams()).result(timeout=10).metrics is not None
    polls = server.calls("/api/v1/retrieve_future")[-7:]
    assert [p.headers["x-tinker-request-iteration"] for p in polls] == [str(i) for i in range(7)]
    assert [p.json["allow_metadata_only"] for p in polls] == [True] * 6 + [False]
    # try-again and 408 answered at once: 0.05 s, 0.1 s (no hot loop); 502: 0.5 s; 429: 1 s
    assert fake_clock.sleeps == [0.05, 0.1, 0.5, 1.0]
    sc.close().result(timeout=10)


def test_failed_future_raises_request_failed(server: RecordingServer) -> None:
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    server.script("/api/v1/retrieve_future", Reply(200, {"error": "loss exploded", "category": "user"}))
    with pytest.raises(RequestFailedError) as ei:
        tc.optim_step(types.AdamParams()).result(timeout=10)
    assert ei.value.category == "user" and "loss exploded" in str(ei.value)
    sc.close().result(timeout=10)


def test_auth_errors_name_the_source_not_the_value(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKER_API_KEY", "tml-WRONG-SECRET")
    sc = ServiceClient(base_url=server.url, _holder_options={"heartbeat_period_s": 0})
    with pytest.raises(PermissionDeniedError) as ei:
        sc.create_lora_training_client("Base/Model").result(timeout=10)
    msg = str(ei.value)
    assert "TINKER_API_KEY" in msg and "WRONG-SECRET" not in msg and server.url in msg
    assert "WRONG-SECRET" not in repr(sc) and "WRONG-SECRET" not in repr(sc.holder)
    sc.close()
    server.api_key = "tml-other"
    server.script("/api/v1/client/config", Reply(401, {"detail": "missing"}))
    sc2 = ServiceClient(base_url=server.url, api_key="tml-ARGKEY", _holder_options={"heartbeat_period_s": 0})
    with pytest.raises(AuthenticationError, match="the api_key argument"):
        sc2.create_sampling_client(base_model="m").result(timeout=10)
    sc2.close()


def test_heartbeat_and_close(server: RecordingServer) -> None:
    sc = make_client(server, heartbeat_period_s=0.05)
    sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    deadline = time.monotonic() + 5
    while server.heartbeats < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.heartbeats >= 3
    hb = server.calls("/api/v1/session_heartbeat")[0]
    assert hb.json == {"session_id": "sess-1", "type": "session_heartbeat"}
    with sc:
        pass
    time.sleep(0.1)  # let a heartbeat already in flight land
    n = server.heartbeats
    time.sleep(0.2)
    assert server.heartbeats == n  # stopped after close
    assert server.sessions["sess-1"]["finished"] == "success"


def test_heartbeat_stops_on_410(server: RecordingServer) -> None:
    sc = make_client(server, heartbeat_period_s=0.02)
    sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    server.script("/api/v1/session_heartbeat", Reply(410, {"detail": "gone"}))
    deadline = time.monotonic() + 5
    while server.scripts["/api/v1/session_heartbeat"] and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    n = server.heartbeats
    time.sleep(0.2)
    assert server.heartbeats == n
    assert not any(
        t.name == "tinkerlite-heartbeat" and t.is_alive()
        for t in threading.enumerate()
        if t is sc.holder._heartbeat_thread
    )
    sc.close().result(timeout=10)


def test_rest_client(server: RecordingServer) -> None:
    rc = RestClient(base_url=server.url, api_key=API_KEY)
    assert rc.get_server_capabilities().result(timeout=10).supported_models[0].model_name == "Base/Model"
    rc.list_checkpoints("run-1").result(timeout=10)
    rc.delete_checkpoint_from_tinker_path("tinker://run-1/weights/c1").result(timeout=10)
    rc.publish_checkpoint_from_tinker_path("tinker://run-1/sampler_weights/c2").result(timeout=10)
    rc.unpublish_checkpoint_from_tinker_path("tinker://run-1/sampler_weights/c2").result(timeout=10)
    rc.set_checkpoint_ttl_from_tinker_path("tinker://run-1/weights/c1", 7200).result(timeout=10)
    info = rc.get_weights_info_by_tinker_path("tinker://run-1/weights/c1").result(timeout=10)
    assert info.lora_rank == 8
    seen = [(r.method, r.path) for r in server.records]
    assert ("POST", "/api/v1/create_session") not in seen
    assert seen[2:] == [
        ("GET", "/api/v1/get_server_capabilities"),
        ("GET", "/api/v1/training_runs/run-1/checkpoints"),
        ("DELETE", "/api/v1/training_runs/run-1/checkpoints/weights/c1"),
        ("POST", "/api/v1/training_runs/run-1/checkpoints/sampler_weights/c2/publish"),
        ("DELETE", "/api/v1/training_runs/run-1/checkpoints/sampler_weights/c2/publish"),
        ("PUT", "/api/v1/training_runs/run-1/checkpoints/weights/c1/ttl"),
        ("POST", "/api/v1/weights_info"),
    ]
    assert server.calls("/api/v1/training_runs/run-1/checkpoints/weights/c1/ttl")[0].json == {"ttl_seconds": 7200}
    assert "x-idempotency-key" not in server.calls("/api/v1/get_server_capabilities")[0].headers
    rc.close()


def test_keep_alive_reuses_connections(server: RecordingServer) -> None:
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    for _ in range(20):
        tc.optim_step(types.AdamParams()).result(timeout=10)
    opened = sc.holder.transport.connections_opened  # type: ignore[attr-defined]
    assert len(server.records) > 40 and opened <= 4
    sc.close().result(timeout=10)


def test_sampling_client_pickles_into_a_clone_block(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sc = make_client(server)
    samp = sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    blob = pickle.dumps(samp)
    assert API_KEY.encode() not in blob  # a pickle never carries the key: the clone reads this process's
    monkeypatch.delenv("TINKER_API_KEY", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    with pytest.raises(TinkerError, match="carries no API key"):
        pickle.loads(blob)
    monkeypatch.setenv("TINKER_API_KEY", API_KEY)
    clone = pickle.loads(blob)
    clone.sample(types.ModelInput.from_ints([1]), 1, types.SamplingParams(max_tokens=1)).result(timeout=10)
    seq = server.calls("/api/v1/asample")[-1].json["seq_id"]
    assert seq >= 1_000_000_000 and seq % 1_000_000_000 == 0
    assert server.calls("/api/v1/asample")[-1].json["sampling_session_id"] == samp.sampling_session_id
    clone.holder.shutdown()
    sc.close().result(timeout=10)


def test_async_twins_do_not_block_the_event_loop(server: RecordingServer) -> None:
    sc = make_client(server)
    samp = sc.create_sampling_client(base_model="Base/Model").result(timeout=10)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)

    async def main() -> tuple[int, float]:
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - t - 0.01)

        tick = asyncio.create_task(ticker())
        prompt = types.ModelInput.from_ints([1, 2, 3])
        results = await asyncio.gather(
            *(samp.sample_async(prompt, 1, types.SamplingParams(max_tokens=2)) for _ in range(1000))
        )
        fb = await tc.forward_backward_async([datum([1, 2])], "cross_entropy")
        await fb
        stop.set()
        await tick
        lags.sort()
        return len(results), lags[len(lags) // 2]

    n, median_lag = asyncio.run(main())
    assert n == 1000
    # The caller's loop keeps ticking while 1000 samples are in flight (blocking I/O on it would
    # freeze it for the whole run); the server shares this process, so allow GIL jitter.
    assert median_lag < 0.05
    assert len({r.json["seq_id"] for r in server.calls("/api/v1/asample")}) == 1000
    sc.close().result(timeout=10)


def test_forward_backward_custom_pure_python(server: RecordingServer) -> None:
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    seen: list[list[float]] = []

    def loss(data: list[types.Datum], logprobs: list[list[float]]) -> tuple[float, dict[str, float], list[list[float]]]:
        seen.extend(logprobs)
        # C = Σ lp² / 2  →  dC/dlp = lp
        c = sum(x * x / 2 for lp in logprobs for x in lp)
        return c, {"custom/n:sum": float(len(data))}, [list(lp) for lp in logprobs]

    data = [datum([1, 2, 3]), datum([4, 5])]
    fut = tc.forward_backward_custom(data, loss)
    opt = tc.optim_step(types.AdamParams())
    out = fut.result(timeout=10)
    opt.result(timeout=10)
    fbs = server.calls("/api/v1/forward_backward")
    assert [f.proto.seq_id for f in fbs] == [1, 2] and server.calls("/api/v1/optim_step")[0].json["seq_id"] == 3
    fwd, bwd = fbs
    assert fwd.proto.forward_only and not bwd.proto.forward_only
    assert fwd.proto.loss_fn == bwd.proto.loss_fn == "cross_entropy"
    assert fwd.proto.data[0].loss_fn_inputs["weights"].data == [0.0, 0.0, 0.0]
    for d, lp in zip(bwd.proto.data, seen, strict=True):
        assert d.loss_fn_inputs["weights"].data == pytest.approx([-x for x in lp])
    expected_c = sum(x * x / 2 for lp in seen for x in lp)
    assert out.metrics["loss:sum"] == pytest.approx(expected_c)
    # server loss for the surrogate: -Σ w·lp = Σ lp²
    assert out.metrics["surrogate_loss:sum"] == pytest.approx(sum(x * x for lp in seen for x in lp), rel=1e-6)
    assert out.metrics["custom/n:sum"] == 2.0
    sc.close().result(timeout=10)


def test_jwt_exchange_and_replay_on_invalid_token() -> None:
    with RecordingServer(client_config={"pjwt_auth_enabled": True}) as srv:
        sc = make_client(srv)
        tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
        tokens = srv.calls("/api/v1/auth/token")
        assert len(tokens) == 1 and tokens[0].headers["x-api-key"] == API_KEY and tokens[0].json == {}
        first_jwt = srv.jwts[0]
        later = srv.records[srv.records.index(tokens[0]) + 1 :]
        assert later and all(r.headers["x-api-key"] == first_jwt for r in later)
        srv.script(
            "/api/v1/optim_step",
            Reply(401, {"detail": "expired"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'}),
        )
        tc.optim_step(types.AdamParams()).result(timeout=10)
        assert len(srv.calls("/api/v1/auth/token")) == 2
        opt = srv.calls("/api/v1/optim_step")
        assert [c.headers["x-api-key"] for c in opt] == [first_jwt, srv.jwts[1]]
        sc.close().result(timeout=10)


def test_secrets_never_logged_or_shown(server: RecordingServer, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    server.script("/api/v1/optim_step", Reply(503, {"detail": "x"}))
    sc = make_client(server, heartbeat_period_s=0.02)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    tc.optim_step(types.AdamParams()).result(timeout=10)
    assert sc.get_server_capabilities().supported_models
    server.api_key = "tml-rotated"
    with pytest.raises(PermissionDeniedError) as ei:
        tc.optim_step(types.AdamParams()).result(timeout=10)
    texts = [caplog.text, repr(sc), repr(tc), repr(sc.holder), str(ei.value), repr(ei.value)]
    assert not any(API_KEY in t for t in texts)
    sc.close()


@pytest.mark.parametrize("strict", [True, False])
def test_calls_from_many_threads_are_submitted_in_reservation_order(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    """Strict mode (the official SDK's) posts in reservation order; the default overlaps posts, so they
    may arrive out of order, but each is sent once and the server applies them in seq order."""
    if strict:
        monkeypatch.setenv("TINKERLITE_STRICT_SUBMIT_ORDER", "1")
    sc = make_client(server)
    tc = sc.create_lora_training_client("Base/Model").result(timeout=10)
    futs: list[object] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(10):
            with lock:  # the order of reservation is the order the caller observes
                futs.append(
                    tc.forward_backward([datum([k, i])], "cross_entropy")
                    if i % 2
                    else tc.optim_step(types.AdamParams())
                )

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in futs:
        f.result(timeout=20)  # type: ignore[attr-defined]
    posted = [
        r.proto.seq_id if r.proto else r.json["seq_id"]
        for r in server.records
        if r.path in ("/api/v1/forward_backward", "/api/v1/optim_step")
    ]
    assert (posted if strict else sorted(posted)) == list(range(1, 41))
    assert server.applied[tc.model_id] == list(range(1, 41))
    sc.close().result(timeout=10)
