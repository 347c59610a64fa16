"""State and compute limits: sampling cost caps, fair scheduling between users, session expiry,
bounded result and idempotency caches, and memory that comes back after sessions close."""

from __future__ import annotations

import threading
import time

import pytest

from tinkerlite.local import auth
from tinkerlite.local.futures import FutureStore
from tinkerlite.local.limits import ServerLimits
from tinkerlite.local.scheduler import Scheduler

from ._guard import BASE, Client, fwdbwd_body, running, serve_proc

PROMPT = {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3]}]}


def _sample_body(n: int, max_tokens: int | None, **extra: object) -> dict[str, object]:
    sp: dict[str, object] = {} if max_tokens is None else {"max_tokens": max_tokens}
    return {"base_model": BASE, "prompt": PROMPT, "num_samples": n, "sampling_params": sp, **extra}


def test_oversized_sampling_request_is_refused_at_once_naming_the_limit() -> None:
    with running() as live:
        c = Client(live.url)
        t0 = time.monotonic()
        status, out = c.post("asample", _sample_body(256, 10**6))
        assert status == 400 and "max_sample_tokens" in out["detail"], out
        status, out = c.post("asample", _sample_body(64, None, prompt_logprobs=True, topk_prompt_logprobs=64))
        assert status == 400 and "max_sample_tokens" in out["detail"], out
        assert time.monotonic() - t0 < 5.0
        rid = c.ok("asample", _sample_body(4, 8))["request_id"]  # a reasonable one still runs
        assert len(c.result(rid)["sequences"]) == 4
        c.close()


def test_one_users_sampling_flood_does_not_starve_anothers_training() -> None:
    futures = FutureStore()
    sched = Scheduler(futures, workers=1)
    order: list[str] = []
    try:
        with auth.as_principal(auth.Principal("alice")):
            for i in range(200):
                sched.submit_unordered(
                    ("s", i), lambda: futures.create("sample"), lambda i=i: (time.sleep(0.002), order.append(f"a{i}"))
                )
        with auth.as_principal(auth.Principal("bob")):
            sched.open_lane("bob-model")
            fut = sched.submit_ordered("bob-model", 1, lambda: futures.create("json"), lambda: order.append("bob"))
        assert futures.wait(fut.request_id, 30).done  # type: ignore[union-attr]
        # Bob's training step ran after at most a couple of Alice's 200 queued samples.
        assert order.index("bob") <= 3, order[:10]
    finally:
        sched.shutdown()


def test_queued_sampling_per_user_is_capped_with_429() -> None:
    futures = FutureStore()
    sched = Scheduler(futures, workers=1, max_queued_samples_per_user=5)
    gate = threading.Event()
    try:
        with auth.as_principal(auth.Principal("alice")):
            sched.submit_unordered(None, lambda: futures.create("sample"), gate.wait)  # occupies the worker
            time.sleep(0.2)
            for _ in range(5):
                sched.submit_unordered(None, lambda: futures.create("sample"), lambda: None)
            with pytest.raises(Exception, match="max_queued_samples_per_user") as e:
                sched.submit_unordered(None, lambda: futures.create("sample"), lambda: None)
            assert getattr(e.value, "status", None) == 429
        with auth.as_principal(auth.Principal("bob")):  # another user is not affected
            sched.submit_unordered(None, lambda: futures.create("sample"), lambda: None)
    finally:
        gate.set()
        sched.shutdown()


def test_silent_sessions_expire_and_unload_their_models() -> None:
    lim = ServerLimits(session_timeout_s=1.0, finished_session_retention_s=1.0)
    with running(lim) as live:
        c = Client(live.url)
        quiet = c.session()
        mid = c.model(quiet)
        alive = c.session()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.5 or (
            c.post("get_info", {"model_id": mid})[0] != 404 and time.monotonic() - t0 < 15
        ):
            c.ok("session_heartbeat", {"session_id": alive})
            time.sleep(0.3)
        assert c.post("get_info", {"model_id": mid})[0] == 404  # unloaded with its expired session
        assert live.service.live_models() == []
        assert c.post("session_heartbeat", {"session_id": quiet})[0] in (404, 410)  # expired (then forgotten)
        assert c.ok("session_heartbeat", {"session_id": alive})
        c.close()


def test_live_sessions_are_capped_with_429() -> None:
    with running(ServerLimits(max_sessions=20, max_sessions_per_user=20)) as live:
        c = Client(live.url)
        for _ in range(20):
            c.session()
        status, out = c.post("create_session", {})
        assert status == 429 and "max_sessions" in out["detail"]
        c.close()


@pytest.mark.slow
def test_20000_sessions_expire_and_state_stays_bounded() -> None:
    lim = ServerLimits(session_timeout_s=1.0, finished_session_retention_s=1.0)
    with running(lim) as live:
        peak = [0]

        def create(n: int) -> None:
            c = Client(live.url)
            for _ in range(n):
                c.post("create_session", {})
            c.close()

        def watch(stop: threading.Event) -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], len(live.service.sessions))
                time.sleep(0.05)

        stop = threading.Event()
        w = threading.Thread(target=watch, args=(stop,))
        w.start()
        threads = [threading.Thread(target=create, args=(5000,)) for _ in range(4)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        took = time.monotonic() - t0
        deadline = time.monotonic() + 15.0  # expiry (1 s) + retention (1 s) + sweeps, on a busy machine
        while len(live.service.sessions) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        w.join()
        assert len(live.service.sessions) == 0, len(live.service.sessions)
        # Never all 20,000 at once: expiry and forgetting kept pace (about 2 s worth at any time).
        assert peak[0] < 20_000 and peak[0] <= 2.5 * 20_000 / max(took, 1.0) + 2_000, (peak[0], took)


def test_result_and_idempotency_caches_are_bounded() -> None:
    lim = ServerLimits(max_results=40, max_idempotency_keys=25)
    with running(lim) as live:
        c = Client(live.url)
        sid = c.session()
        body = {"session_id": sid, "sampling_session_seq_id": 0, "base_model": BASE}
        sampler = c.ok("create_sampling_session", body)["sampling_session_id"]
        last = None
        for i in range(150):
            last = c.ok("asample", _sample_body(1, 1))["request_id"]  # anonymous
            keyed = {"sampling_session_id": sampler, "seq_id": i, "prompt": PROMPT}
            keyed["sampling_params"] = {"max_tokens": 1}
            c.ok("asample", keyed)
        assert last is not None
        c.result(last)
        time.sleep(0.5)
        assert len(live.service.futures) <= 40 + 4, len(live.service.futures)
        assert len(live.service.scheduler._idem) <= 25
        c.close()


def _client_life(url: str, errors: list[str]) -> None:
    try:
        c = Client(url)
        sid = c.session()
        mid = c.model(sid)
        for seq in range(1, 4):
            c.result(c.ok("forward_backward", fwdbwd_body(mid, seq, list(range(1, 40))))["request_id"])
        optim = {"model_id": mid, "seq_id": 4, "adam_params": {"learning_rate": 1e-3}}
        c.result(c.ok("optim_step", optim)["request_id"])
        save = {"model_id": mid, "seq_id": 5, "sampling_session_seq_id": 0}
        c.result(c.ok("save_weights_for_sampler", save)["request_id"])
        sample = {"sampling_session_id": f"{sid}:sample:0", "prompt": PROMPT, "num_samples": 4}
        c.result(c.ok("asample", {**sample, "sampling_params": {"max_tokens": 16}})["request_id"])
        c.ok(f"sessions/{sid}/finish", {})
        c.close()
    except Exception as e:  # reported by the test
        errors.append(repr(e))


@pytest.mark.slow
def test_rss_is_flat_across_waves_of_clients(tmp_path: object) -> None:
    with serve_proc([]) as srv:
        rss = []
        for _wave in range(5):
            errors: list[str] = []
            threads = [threading.Thread(target=_client_life, args=(srv.url, errors)) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            assert errors == []
            time.sleep(3.0)  # the server trims its heap after models unload
            rss.append(srv.status("VmRSS"))
        print("server RSS MiB after each wave:", [r // 1024 for r in rss])
        # The first wave warms caches (imports, base weights); later waves must not keep growing.
        assert max(rss[2:]) <= rss[1] * 1.10, [r // 1024 for r in rss]


def test_fair_scheduling_over_http_training_is_not_starved_by_anothers_sampling() -> None:
    keys = {"alice": "tml-fair-alice-0000001", "bob": "tml-fair-bob-00000002"}
    with running(api_keys=keys, workers=1) as live:
        alice, bob = Client(live.url, keys["alice"]), Client(live.url, keys["bob"])
        mid = bob.model(bob.session())
        t0 = time.monotonic()
        flood = [
            alice.ok("asample", _sample_body(8, 32, sampling_params={"max_tokens": 32, "seed": i}))["request_id"]
            for i in range(60)
        ]
        t1 = time.monotonic()
        bob.result(bob.ok("forward_backward", fwdbwd_body(mid, 1, list(range(1, 30))))["request_id"])
        bob_latency = time.monotonic() - t1
        for rid in flood:
            alice.result(rid)
        flood_s = time.monotonic() - t0
        # Bob waited for about one of Alice's jobs, not for her whole queue.
        assert bob_latency < 0.5 * flood_s, (bob_latency, flood_s)
        alice.close()
        bob.close()
