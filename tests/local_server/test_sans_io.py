"""The route logic and the scheduler work without sockets."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from tinkerlite.local.futures import FutureStore
from tinkerlite.local.http_types import Request
from tinkerlite.local.routes import Router, RouterOptions
from tinkerlite.local.scheduler import OpError, Scheduler
from tinkerlite.local.service import LocalService
from tinkerlite.local.store import Store


def test_router_without_sockets(tmp_path: Path) -> None:
    service = LocalService(Store(tmp_path), workers=1)
    try:
        router = Router(service, RouterOptions(long_poll_s=5))

        def call(method: str, path: str, body: object = None) -> tuple[int, object]:
            raw = b"" if body is None else json.dumps(body).encode()
            resp = router.handle(Request(method, path, headers={"content-type": "application/json"}, body=raw))
            assert resp.content_type == "application/json"
            return resp.status, json.loads(resp.body)

        status, sess = call("POST", "create_session", {"tags": []})
        assert status == 200
        sid = sess["session_id"]  # type: ignore[index]
        status, fut = call(
            "POST", "create_model", {"session_id": sid, "model_seq_id": 0, "base_model": "tinkerlite/tiny-chat"}
        )
        assert status == 200 and fut["model_id"] == f"{sid}:train:0"  # type: ignore[index]
        status, res = call("POST", "retrieve_future", {"request_id": fut["request_id"]})  # type: ignore[index]
        assert res == {"model_id": f"{sid}:train:0", "type": "create_model"}
        assert call("GET", "nope")[0] == 404
        assert call("PUT", "create_session")[0] == 405
    finally:
        service.close()


def test_scheduler_orders_and_dedupes() -> None:
    futures = FutureStore()
    sched = Scheduler(futures, workers=2)
    try:
        sched.open_lane("m", next_seq=1)
        order: list[int] = []
        lock = threading.Lock()

        def job(n: int) -> object:
            def run() -> object:
                with lock:
                    order.append(n)
                if n == 2:
                    raise OpError("boom")
                return n

            return run

        futs = {}
        for n in (4, 2, 3):
            futs[n] = sched.submit_ordered("m", n, lambda: futures.create("json"), job(n))
        assert sched.submit_ordered("m", 3, lambda: futures.create("json"), job(99)) is futs[3]
        futs[1] = sched.submit_ordered("m", 1, lambda: futures.create("json"), job(1))
        done = futures.wait(futs[4].request_id, 10)
        assert done is not None and done.done and done.value == 4
        assert order == [1, 2, 3, 4]  # held until seq 1 arrived; the failure at 2 did not stall 3 and 4
        assert futs[2].error == "boom" and futs[2].category == "user"
    finally:
        sched.shutdown()


def test_stale_sessions_release_models_when_full(tmp_path: Path) -> None:
    from tinkerlite.local.service import ServiceLimits

    service = LocalService(Store(tmp_path), workers=1, limits=ServiceLimits(max_models=2, stale_session_s=60))
    try:
        old = service.sessions.create([], {}, None)
        live = service.sessions.create([], {}, None)
        service.create_model(old.session_id, 0, "tinkerlite/tiny-chat", {"rank": 2}, {})
        service.create_model(live.session_id, 0, "tinkerlite/tiny-chat", {"rank": 2}, {})
        old.last_heartbeat -= 3600  # silent for an hour
        service.create_model(live.session_id, 1, "tinkerlite/tiny-chat", {"rank": 2}, {})
        assert {tm.session_id for tm in service.live_models()} == {live.session_id}
        try:
            service.create_model(live.session_id, 2, "tinkerlite/tiny-chat", {"rank": 2}, {})
        except OpError as e:
            assert "at most 2" in str(e)
        else:
            raise AssertionError("a live session's models must not be evicted")
    finally:
        service.close()
