"""Protocol semantics of the local server over real HTTP (urllib)."""

from __future__ import annotations

import json
import math
import time

from tinkerlite.types import Datum, ModelInput

from ._helpers import BASE, PROTO, Raw, get, post, request, sft_data


def test_client_config_and_capabilities(server: str) -> None:
    r = post(server, "client/config", {"sdk_version": "0.38.0"})
    assert r.status == 200 and r.content_type == "application/json"
    cfg = r.json()
    assert cfg["pjwt_auth_enabled"] is False and cfg["use_pyqwest_transport"] is False
    caps = get(server, "get_server_capabilities").json()
    names = {m["model_name"] for m in caps["supported_models"]}
    assert {BASE, "Qwen/Qwen3-8B", "meta-llama/Llama-3.2-1B", "Qwen/Qwen3-30B-A3B"} <= names
    assert get(server, "healthz").json() == {"status": "ok"}
    assert post(server, "telemetry", {"events": []}).json() == {"status": "accepted"}


def test_path_prefix_is_accepted(server: str) -> None:
    r = request(server + "/services/tinker-prod", "GET", "healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}


def test_model_ids_info_and_unknown_fields(server: str) -> None:
    c = Raw(server)
    body = {
        "session_id": c.session_id,
        "model_seq_id": 0,
        "base_model": BASE,
        "lora_config": {"rank": 4, "train_unembed": True, "brand_new_field": 1},
        "optimizer_config": {"type": "adamw"},
        "some_future_field": {"x": [1, 2]},
        "type": "create_model",
    }
    r = post(server, "create_model", body)
    assert r.status == 200
    mid = c.result(r.json()["request_id"])["model_id"]
    assert mid == f"{c.session_id}:train:0"
    info = post(server, "get_info", {"model_id": mid, "type": "get_info", "extra": True}).json()
    assert info["model_data"] == {
        "arch": "tiny-transformer",
        "model_name": BASE,
        "tokenizer_id": "tinkerlite/byte-chat",
    }
    assert info["lora_rank"] == 4
    # A retried create_model is idempotent.
    again = post(server, "create_model", body).json()
    assert again["request_id"] == r.json()["request_id"]


def test_standin_reports_real_tokenizer_and_vocab(server: str) -> None:
    c = Raw(server)
    mid = c.create_model("Qwen/Qwen3-8B", rank=2, train_mlp=False, train_attn=True, train_unembed=False)
    info = post(server, "get_info", {"model_id": mid}).json()
    assert info["model_data"]["tokenizer_id"] == "Qwen/Qwen3-8B"
    # The highest Qwen3 id (151,935 incl. padding) is a valid token; one past it is a user error.
    ok = c.fwdbwd(
        mid,
        1,
        [
            Datum(
                model_input=ModelInput.from_ints([151_935, 5]),
                loss_fn_inputs={"target_tokens": [5, 151_935], "weights": [1.0, 1.0]},
            )
        ],
        forward_only=True,
    )
    assert len(ok.loss_fn_outputs) == 1
    rid = c.submit_fwdbwd(
        mid,
        2,
        [Datum(model_input=ModelInput.from_ints([151_936]), loss_fn_inputs={"target_tokens": [1], "weights": [1.0]})],
    )
    failed = c.result(rid, proto=True)
    assert failed["category"] == "user" and "151936" in failed["error"]


def test_outputs_metrics_and_negative_weights(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    data = sft_data(3, 8)
    data.append(
        Datum(
            model_input=ModelInput.from_ints([1, 2, 3]),
            loss_fn_inputs={"target_tokens": [2, 3, 4], "weights": [-1.0, 0.5, 2.0]},
        )
    )
    out = c.fwdbwd(mid, 1, data)
    assert len(out.loss_fn_outputs) == 4
    for o, d in zip(out.loss_fn_outputs, data, strict=True):
        lp = o["logprobs"]
        assert lp.dtype == "float32" and lp.resolved_shape == d.loss_fn_inputs["target_tokens"].resolved_shape
        assert all(x < 0 for x in lp.tolist())
    assert "loss:sum" in out.metrics
    assert all(k.count(":") == 1 for k in out.metrics)
    expected = -sum(
        w * lp
        for o, d in zip(out.loss_fn_outputs, data, strict=True)
        for w, lp in zip(d.loss_fn_inputs["weights"].tolist(), o["logprobs"].tolist(), strict=True)
    )
    assert math.isclose(out.metrics["loss:sum"], expected, rel_tol=1e-4)


def test_strict_seq_order_and_idempotency(server: str) -> None:
    c = Raw(server)
    m1, m2 = c.create_model(), c.create_model()
    data = sft_data(2, 8)
    # Reference: in order, once.
    c.fwdbwd(m1, 1, data)
    c.optim(m1, 2)
    ref = c.fwdbwd(m1, 3, data, forward_only=True)
    # Out of order: optim (seq 2) and the forward (seq 3) arrive before the forward_backward (seq 1);
    # the optim_step submission is also repeated.
    r_opt = post(server, "optim_step", {"model_id": m2, "seq_id": 2, "adam_params": {"learning_rate": 1e-2}})
    r_opt2 = post(server, "optim_step", {"model_id": m2, "seq_id": 2, "adam_params": {"learning_rate": 1e-2}})
    assert r_opt.json()["request_id"] == r_opt2.json()["request_id"]
    rid3 = c.submit_fwdbwd(m2, 3, data, forward_only=True)
    rid1 = c.submit_fwdbwd(m2, 1, data)
    assert c.submit_fwdbwd(m2, 1, data) == rid1  # resubmission: same future, applied once
    c.result(rid1, proto=True)
    c.result(r_opt.json()["request_id"])
    from tinkerlite.codec.results_proto import decode_forward_backward_output

    got = decode_forward_backward_output(c.result(rid3, proto=True))
    assert [o["logprobs"].tolist() for o in got.loss_fn_outputs] == [
        o["logprobs"].tolist() for o in ref.loss_fn_outputs
    ]
    # A seq_id that has passed and was never seen is refused with a 4xx.
    late = post(server, "optim_step", {"model_id": m2, "seq_id": 1, "adam_params": {}})
    assert late.status == 200  # seq 1 was seen: same future (a forward_backward) comes back
    stale = request(
        server, "POST", "optim_step", json.dumps({"model_id": m1, "seq_id": 0, "adam_params": {}}).encode(), {}
    )
    assert 400 <= stale.status < 500


def test_failed_future_shape_and_sequence_continues(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    rid = c.submit_fwdbwd(mid, 1, sft_data(1, 4), loss_fn="no_such_loss")
    failed = c.result(rid, proto=True)
    assert set(failed) == {"error", "category"} and failed["category"] == "user"
    # The failed request still advanced the sequence.
    assert "metrics" in c.optim(mid, 2)


def test_retrieve_future_long_polls_then_try_again() -> None:
    import tinkerlite.local

    with tinkerlite.local.serve(long_poll_s=1.5) as server:
        c = Raw(server)
        mid = c.create_model()
        rid = c.submit_fwdbwd(mid, 2, sft_data(1, 4))  # seq 1 never comes: held
        t = time.monotonic()
        r = post(server, "retrieve_future", {"request_id": rid})
        waited = time.monotonic() - t
        assert r.json() == {"type": "try_again", "request_id": rid, "queue_state": "active"}
        assert 1.4 <= waited < 5.0
        # Completion wakes a waiting poll at once (condition variable, not a sleep loop).
        rid1 = c.submit_fwdbwd(mid, 1, sft_data(1, 4))
        t = time.monotonic()
        assert post(server, "retrieve_future", {"request_id": rid}, Accept=PROTO).content_type == PROTO
        assert time.monotonic() - t < 1.4
        assert c.result(rid1, proto=True)
        assert post(server, "retrieve_future", {"request_id": "nope"}).status == 404


def test_json_results_by_accept_and_legacy_json_forms(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    datum = {
        "model_input": {"chunks": [{"type": "encoded_text", "tokens": [5, 6, 7]}]},
        "loss_fn_inputs": {
            "target_tokens": {"data": [6, 7, 8], "dtype": "int64", "shape": [3]},
            "weights": {"data": [1, 1, 1], "dtype": "float32", "shape": [3]},
        },
    }
    r = post(
        server,
        "forward_backward",
        {"model_id": mid, "seq_id": 1, "forward_backward_input": {"data": [datum], "loss_fn": "cross_entropy"}},
    )
    assert r.status == 200
    res = c.result(r.json()["request_id"])  # Accept: JSON
    assert res["loss_fn_outputs"][0]["logprobs"]["dtype"] == "float32" and "loss:sum" in res["metrics"]
    r = post(
        server,
        "forward",
        {"model_id": mid, "seq_id": 2, "forward_input": {"data": [datum], "loss_fn": "cross_entropy"}},
    )
    fwd = c.result(r.json()["request_id"])
    assert fwd["loss_fn_outputs"][0]["logprobs"] == res["loss_fn_outputs"][0]["logprobs"]  # forward-only


def test_sampling_session_seeds_stops_and_logprobs(server: str) -> None:
    c = Raw(server)
    r = post(
        server,
        "create_sampling_session",
        {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": BASE},
    )
    sid = r.json()["sampling_session_id"]
    assert sid == f"{c.session_id}:sample:0"
    assert get(server, f"samplers/{sid}").json()["base_model"] == BASE
    prompt = {"chunks": [{"type": "encoded_text", "tokens": [258, 72, 105]}]}
    body = {
        "sampling_session_id": sid,
        "seq_id": 0,
        "num_samples": 3,
        "prompt": prompt,
        "sampling_params": {"max_tokens": 6, "seed": 7, "temperature": 1.0, "top_k": -1, "top_p": 1.0},
        "prompt_logprobs": True,
        "topk_prompt_logprobs": 2,
    }
    a = c.sample(body)
    sub = post(server, "asample", {**body, "seq_id": 1})
    assert len(sub.json()["sample_sequence_ids"]) == 3
    b = c.sample({**body, "seq_id": 2})
    assert [s.tokens for s in a.sequences] == [s.tokens for s in b.sequences]
    assert all(len(s.logprobs or []) == len(s.tokens) for s in a.sequences)
    assert a.prompt_logprobs is not None and a.prompt_logprobs[0] is None and len(a.prompt_logprobs) == 3
    assert a.topk_prompt_logprobs is not None and len(a.topk_prompt_logprobs[1] or []) == 2
    # Stop on a token id: greedy decoding's first token, used as the stop, ends every sequence at once.
    greedy = c.sample({**body, "seq_id": 3, "num_samples": 1, "sampling_params": {"max_tokens": 4, "temperature": 0.0}})
    first = greedy.sequences[0].tokens[0]
    stopped = c.sample(
        {
            **body,
            "seq_id": 4,
            "num_samples": 1,
            "sampling_params": {"max_tokens": 4, "temperature": 0.0, "stop": [first]},
        }
    )
    assert stopped.sequences[0].tokens == [first] and stopped.sequences[0].stop_reason == "stop"
    nostop = c.sample({**body, "seq_id": 5, "num_samples": 1, "sampling_params": {"max_tokens": 4, "stop": []}})
    assert len(nostop.sequences[0].tokens) == 4 and nostop.sequences[0].stop_reason == "length"


def test_stop_strings_on_byte_model(server: str) -> None:
    c = Raw(server)
    r = post(
        server,
        "create_sampling_session",
        {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": BASE},
    )
    sid = r.json()["sampling_session_id"]

    def greedy(prompt: list[int], seq: int, stop: list[str]) -> tuple[list[int], str]:
        res = c.sample(
            {
                "sampling_session_id": sid,
                "seq_id": seq,
                "prompt": {"chunks": [{"type": "encoded_text", "tokens": prompt}]},
                "sampling_params": {"max_tokens": 6, "temperature": 0.0, "stop": stop},
            }
        )
        return res.sequences[0].tokens, res.sequences[0].stop_reason

    # Find a prompt whose greedy continuation holds two printable ASCII bytes in a row; use them as a
    # two-token stop string and expect the output cut right after their first occurrence.
    for p in range(40, 120):
        toks, _ = greedy([p, p + 1], p, [])
        pairs = [i for i in range(len(toks) - 1) if all(32 < t < 127 for t in toks[i : i + 2])]
        if pairs:
            break
    else:
        raise AssertionError("no prompt gave two ASCII bytes in a row; the test needs another probe range")
    i = pairs[0]
    stop = bytes(toks[i : i + 2]).decode("ascii")
    cut, reason = greedy([p, p + 1], 1000 + p, [stop])
    assert cut == toks[: i + 2] and reason == "stop", (toks, stop, cut)


def test_bad_requests_get_4xx_with_message(server: str) -> None:
    cases = [
        ("POST", "create_model", b"{not json"),
        ("POST", "create_model", b"[1,2]"),
        ("POST", "create_model", json.dumps({"session_id": "nope", "model_seq_id": 0, "base_model": BASE}).encode()),
        ("POST", "get_info", json.dumps({"model_id": "x:train:0"}).encode()),
        ("POST", "forward_backward", b"\xff\xff\xff"),
        ("POST", "asample", json.dumps({"prompt": {"chunks": []}, "base_model": BASE}).encode()),
        ("POST", "retrieve_future", json.dumps({"request_id": 5}).encode()),
        ("GET", "no/such/route", None),
        ("DELETE", "healthz", None),
        ("POST", "create_model", b'{"a": NaN}'),
    ]
    for method, path, body in cases:
        r = request(server, method, path, body, {"Content-Type": "application/json"})
        assert 400 <= r.status < 500, (path, r)
        assert r.content_type == "application/json"
        assert r.json()["detail"], (path, r)


def test_body_size_caps() -> None:
    import tinkerlite.local

    with tinkerlite.local.serve(max_body_bytes=1000, max_decompressed_bytes=2000) as url:
        r = request(url, "POST", "create_session", b"{" + b" " * 5000 + b"}", {"Content-Type": "application/json"})
        assert r.status == 413 and "exceeds" in r.json()["detail"]
        from tinkerlite.codec import zstd

        bomb = zstd.compress(b"\0" * 100_000)
        assert len(bomb) < 1000
        r = request(url, "POST", "forward_backward", bomb, {"Content-Type": PROTO, "Content-Encoding": "zstd"})
        assert r.status == 413, r
        assert get(url, "healthz").status == 200


def test_api_key_and_bind_policy() -> None:
    import pytest

    import tinkerlite.local

    with tinkerlite.local.serve(api_key="tml-secret") as url:
        assert post(url, "create_session", {}).status == 401
        assert post(url, "create_session", {}, **{"X-API-Key": "tml-wrong"}).status == 403
        assert post(url, "create_session", {}, **{"X-API-Key": "tml-secret"}).status == 200
        assert get(url, "healthz").status == 200
    with pytest.raises(ValueError, match="API key"):
        with tinkerlite.local.serve(host="0.0.0.0"):
            pass


def test_session_heartbeat_finish_and_rest(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    c.fwdbwd(mid, 1, sft_data(1, 4))
    c.optim(mid, 2)
    saved = c.save(mid, 3, "ckpt-a")
    assert saved["path"] == f"tinker://{mid}/weights/ckpt-a"
    samp = c.save(mid, 4, "samp-a", sampler=True)
    assert samp["path"] == f"tinker://{mid}/sampler_weights/samp-a"
    # Saving the same name again without overwrite fails as a future, not an HTTP error.
    r = post(server, "save_weights", {"model_id": mid, "seq_id": 5, "path": "ckpt-a"})
    assert "already exists" in c.result(r.json()["request_id"])["error"]
    info = post(server, "weights_info", {"tinker_path": saved["path"]}).json()
    assert info["base_model"] == BASE and info["lora_rank"] == 4 and info["is_lora"] is True
    ck = get(server, f"training_runs/{mid}/checkpoints").json()["checkpoints"]
    assert sorted(x["checkpoint_id"] for x in ck) == ["sampler_weights/samp-a", "weights/ckpt-a"]
    run = get(server, f"training_runs/{mid}").json()
    assert run["training_run_id"] == mid and run["base_model"] == BASE and run["is_lora"] is True
    assert any(r["training_run_id"] == mid for r in get(server, "training_runs?limit=1000").json()["training_runs"])
    assert any(x["tinker_path"] == saved["path"] for x in get(server, "checkpoints?limit=1000").json()["checkpoints"])
    base = f"training_runs/{mid}/checkpoints/weights/ckpt-a"
    assert request(server, "POST", base + "/publish").status == 200
    assert request(server, "POST", base + "/publish").status == 409
    assert request(server, "DELETE", base + "/publish").status == 200
    ttl = request(server, "PUT", base + "/ttl", json.dumps({"ttl_seconds": 3600}).encode()).json()
    assert ttl["expires_at"]
    assert request(server, "DELETE", f"training_runs/{mid}/checkpoints/sampler_weights/samp-a").status == 200
    ck = get(server, f"training_runs/{mid}/checkpoints").json()["checkpoints"]
    assert [x["checkpoint_id"] for x in ck] == ["weights/ckpt-a"]
    assert c.session_id in get(server, "sessions?limit=10000").json()["sessions"]
    assert mid in get(server, f"sessions/{c.session_id}").json()["training_run_ids"]
    assert post(server, "session_heartbeat", {"session_id": c.session_id}).json() == {"type": "session_heartbeat"}
    assert post(server, f"sessions/{c.session_id}/finish", {"reason": {"type": "success"}}).status == 200
    assert post(server, "session_heartbeat", {"session_id": c.session_id}).status == 410
    assert post(server, "get_info", {"model_id": mid}).status == 404  # finished sessions release their models


def test_names_cannot_escape_state_dir(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    for i, name in enumerate(["../evil", "a/b", "..", ".hidden", "x" * 300, ""]):
        r = post(server, "save_weights", {"model_id": mid, "seq_id": i + 1, "path": name})
        assert r.status == 200
        res = c.result(r.json()["request_id"])
        assert "error" in res, (name, res)
    bad = post(server, "weights_info", {"tinker_path": "tinker://../x/weights/y"})
    assert 400 <= bad.status < 500
    bad = get(server, "training_runs/..%2F..%2Fetc/checkpoints")
    assert 400 <= bad.status < 500


def test_ttl_expiry_hides_checkpoint(server: str) -> None:
    c = Raw(server)
    mid = c.create_model()
    path = c.save(mid, 1, "short")["path"]
    base = f"training_runs/{mid}/checkpoints/weights/short"
    assert request(server, "PUT", base + "/ttl", json.dumps({"ttl_seconds": 1}).encode()).status == 200
    time.sleep(1.2)
    assert get(server, f"training_runs/{mid}/checkpoints").json()["checkpoints"] == []
    assert post(server, "weights_info", {"tinker_path": path}).status == 404
    bad = request(server, "PUT", base + "/ttl", json.dumps({"ttl_seconds": -5}).encode())
    assert bad.status == 404  # expired, hence gone


def test_unsupported_sampling_options_are_refused_and_last_n_is_honoured(server: str) -> None:
    c = Raw(server)
    base = {
        "base_model": BASE,
        "prompt": {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3, 4, 5]}]},
        "sampling_params": {"max_tokens": 1},
    }
    for extra in ({"topk_sample_logprobs": 3}, {"prompt_alt_tokens_k": 2}):
        r = post(server, "asample", {**base, **extra})
        assert r.status == 400 and next(iter(extra)) in r.json()["detail"]
    res = c.sample({**base, "prompt_logprobs": True, "prompt_logprobs_last_n": 2})
    assert res.prompt_logprobs is not None
    assert res.prompt_logprobs[:3] == [None, None, None] and all(isinstance(x, float) for x in res.prompt_logprobs[3:])
