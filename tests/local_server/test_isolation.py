"""Users are isolated: with key B, every route that names one of user A's objects answers exactly as it
does for an object that does not exist, listings hide A's objects, and A's objects survive B's attempts.
The route table is iterated, so a new route without a case here fails this test."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tinkerlite.local.external_weights import ARCHIVE_ROUTE, FILES_ROUTE
from tinkerlite.local.http_types import Request, Response
from tinkerlite.local.routes import Router, RouterOptions
from tinkerlite.local.service import LocalService
from tinkerlite.local.store import Store

from ._guard import BASE, Client, datum_json, running

KEYS = {"alice": "tml-alice-key-000000001", "bob": "tml-bob-key-00000000002", "admin": "tml-admin-key-000000003"}
ABSENT = {"sid": "0123456789abcdef", "mid": "0123456789abcdef:train:0", "sampler": "0123456789abcdef:sample:0"}

# Routes that name no object of a user (or carry their own authority: signed download URLs).
NO_OBJECT = {
    "client/config",
    "client/dynamic_config",
    "create_session",
    "telemetry",
    "healthz",
    "_tinkerlite/stats",
    "get_server_capabilities",
    "cancel_future",
    "audit",  # always empty locally
    "billing/usage/events",  # always empty locally
}
SIGNED = (FILES_ROUTE, ARCHIVE_ROUTE)

PROMPT = {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3]}]}
CK = "training_runs/{mid}/checkpoints"
# (method, path, body) with {sid} {own_sid} {mid} {sampler} {rid} {ck} {sk}; destructive ones last.
CASES: list[tuple[str, str, Any]] = [
    ("POST", "session_heartbeat", {"session_id": "{sid}"}),
    ("POST", "create_model", {"session_id": "{sid}", "model_seq_id": 5, "base_model": BASE}),
    ("POST", "get_info", {"model_id": "{mid}"}),
    (
        "POST",
        "forward_backward",
        {"model_id": "{mid}", "seq_id": 100, "forward_backward_input": {"data": [datum_json([1, 2, 3])]}},
    ),
    ("POST", "forward", {"model_id": "{mid}", "seq_id": 100, "forward_input": {"data": [datum_json([1, 2])]}}),
    ("POST", "optim_step", {"model_id": "{mid}", "seq_id": 101, "adam_params": {}}),
    ("POST", "save_weights", {"model_id": "{mid}", "seq_id": 102, "path": "x"}),
    ("POST", "save_weights_for_sampler", {"model_id": "{mid}", "seq_id": 103, "path": "y"}),
    ("POST", "save_weights_external", {"model_id": "{mid}", "seq_id": 104, "path": "e2"}),
    ("POST", "load_weights", {"model_id": "{mid}", "seq_id": 105, "path": "{ck}"}),
    ("POST", "load_weights", {"session_id": "{own_sid}", "model_seq_id": 7, "path": "{ck}"}),
    ("POST", "weights_info", {"tinker_path": "{ck}"}),
    ("POST", "copy_weights", {"source_path": "{ck}", "destination_project_id": "p"}),
    ("POST", "create_sampling_session", {"session_id": "{sid}", "sampling_session_seq_id": 3, "base_model": BASE}),
    (
        "POST",
        "create_sampling_session",
        {"session_id": "{own_sid}", "sampling_session_seq_id": 4, "model_path": "{sk}"},
    ),
    ("GET", "samplers/{sampler}", None),
    ("POST", "asample", {"sampling_session_id": "{sampler}", "prompt": PROMPT, "sampling_params": {"max_tokens": 1}}),
    ("POST", "asample", {"model_path": "{sk}", "prompt": PROMPT, "sampling_params": {"max_tokens": 1}}),
    ("POST", "retrieve_future", {"request_id": "{rid}"}),
    ("GET", "training_runs/{mid}", None),
    ("GET", CK, None),
    ("GET", CK + "/external_weights/ext/external_weights_urls", None),
    ("GET", CK + "/weights/ck/archive", None),
    ("PUT", CK + "/weights/ck/ttl", {"ttl_seconds": 3600}),
    ("POST", CK + "/weights/ck/publish", None),
    ("DELETE", CK + "/weights/ck/publish", None),
    ("GET", "sessions/{sid}", None),
    ("DELETE", CK + "/weights/ck", None),
    ("POST", "unload_model", {"model_id": "{mid}"}),
    ("POST", "sessions/{sid}/finish", {}),
]
LISTS: list[tuple[str, str, Any]] = [
    ("GET", "training_runs", None),
    ("GET", "checkpoints", None),
    ("GET", "sessions", None),
    ("POST", "sessions/search", {}),
]


def _fill(obj: Any, ids: dict[str, str]) -> Any:
    if isinstance(obj, str):
        return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], obj)
    if isinstance(obj, dict):
        return {k: _fill(v, ids) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, ids) for v in obj]
    return obj


class World:
    def __init__(self, router: Router) -> None:
        self.router = router

    def call(self, user: str, method: str, path: str, body: Any = None) -> Response:
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"x-api-key": KEYS[user], "content-type": "application/json"}
        return self.router.handle(Request(method, path, {}, headers, raw))

    def ok(self, user: str, path: str, body: Any) -> Any:
        r = self.call(user, "POST", path, body)
        assert r.status == 200, (path, r.status, r.body)
        return json.loads(r.body)

    def wait(self, user: str, rid: str) -> Any:
        for _ in range(600):
            out = self.ok(user, "retrieve_future", {"request_id": rid})
            if out.get("type") != "try_again":
                assert "error" not in out, out
                return out
        raise AssertionError(rid)


@pytest.fixture
def world() -> Iterator[tuple[World, dict[str, str]]]:
    with tempfile.TemporaryDirectory() as root:
        service = LocalService(Store(root), workers=1)
        router = Router(service, RouterOptions(api_keys=KEYS, long_poll_s=1.0))
        w = World(router)
        sid = w.ok("alice", "create_session", {})["session_id"]
        mid = w.wait(
            "alice",
            w.ok("alice", "create_model", {"session_id": sid, "model_seq_id": 0, "base_model": BASE})["request_id"],
        )["model_id"]
        for seq, (route, name) in enumerate(
            [("save_weights", "ck"), ("save_weights_for_sampler", "sk"), ("save_weights_external", "ext")], 1
        ):
            rid = w.ok("alice", route, {"model_id": mid, "seq_id": seq, "path": name})["request_id"]
            w.wait("alice", rid)
        sk = f"tinker://{mid}/sampler_weights/sk"
        sampler = w.ok(
            "alice", "create_sampling_session", {"session_id": sid, "sampling_session_seq_id": 0, "model_path": sk}
        )["sampling_session_id"]
        ids = {
            "sid": sid,
            "mid": mid,
            "sampler": sampler,
            "rid": rid,
            "ck": f"tinker://{mid}/weights/ck",
            "sk": sk,
            "own_sid": sid,
        }
        ids["bob_sid"] = w.ok("bob", "create_session", {})["session_id"]
        try:
            yield w, ids
        finally:
            service.close()


def _norm(resp: Response, ids: dict[str, str]) -> tuple[int, str]:
    text = resp.body.decode("utf-8", "replace")
    for k in ("ck", "sk", "mid", "sampler", "sid", "rid"):
        text = text.replace(ids[k], "<" + k + ">")
    text = re.sub(r"(req|fwdbwd|optim|save|load|failed|sample|unload|create)-\d+", "<fut>", text)
    return resp.status, text


def _route_of(router: Router, method: str, path: str) -> str:
    for m, pattern, _ in router._routes:
        if m == method and pattern.match(path):
            return pattern.pattern
    raise AssertionError(f"no route for {method} {path}")


def test_key_b_sees_nothing_of_key_a_on_any_route(world: tuple[World, dict[str, str]]) -> None:
    w, a_ids = world
    absent = {
        **ABSENT,
        "rid": "req-999999",
        "ck": f"tinker://{ABSENT['mid']}/weights/ck",
        "sk": f"tinker://{ABSENT['mid']}/sampler_weights/sk",
        "own_sid": a_ids["bob_sid"],
    }
    bob_view = {**a_ids, "own_sid": a_ids["bob_sid"]}
    covered = set()
    for method, path_t, body_t in CASES:
        path_b, body_b = _fill(path_t, bob_view), _fill(body_t, bob_view)
        covered.add(_route_of(w.router, method, path_b))
        got = w.call("bob", method, path_b, body_b)
        ref = w.call("bob", method, _fill(path_t, absent), _fill(body_t, absent))
        assert got.status >= 400, (method, path_b, got.status, got.body)
        assert _norm(got, a_ids) == _norm(ref, absent), (method, path_t)
        control = w.call("alice", method, _fill(path_t, a_ids), _fill(body_t, a_ids))
        assert control.status < 400, (method, path_t, control.status, control.body)  # the case can fail
    for method, path, body in LISTS:
        covered.add(_route_of(w.router, method, path))
        bob = w.call("bob", method, path, body).body.decode()
        alice = w.call("alice", method, path, body).body.decode()
        assert a_ids["sid"][:16] in alice and a_ids["sid"][:16] not in bob, (path, bob)
        admin = w.call("admin", method, path, body).body.decode()
        assert a_ids["sid"][:16] in admin and a_ids["bob_sid"] in w.call("admin", "GET", "sessions").body.decode()
    usage = "billing/usage/checkpoints/current"
    covered.add(_route_of(w.router, "GET", usage))
    counts = {u: json.loads(w.call(u, "GET", usage).body)["data"][0]["checkpoint_count"] for u in ("alice", "bob")}
    assert counts["alice"] > 0 and counts["bob"] == 0, counts
    for _, pattern, _ in w.router._routes:
        plain = pattern.pattern.removesuffix(r"\Z")
        if plain in NO_OBJECT or plain.startswith(SIGNED) or pattern.pattern in covered:
            continue
        raise AssertionError(f"route {plain} has no isolation case in test_isolation.py")


def test_b_cannot_touch_a_objects_and_admin_sees_all(world: tuple[World, dict[str, str]]) -> None:
    w, ids = world
    mid = ids["mid"]
    assert w.call("bob", "DELETE", f"training_runs/{mid}/checkpoints/weights/ck").status == 404
    assert w.call("bob", "POST", "unload_model", {"model_id": mid}).status == 404
    assert w.call("bob", "POST", f"sessions/{ids['sid']}/finish", {}).status == 404
    # Alice's objects are all still there and usable.
    assert w.call("alice", "GET", f"training_runs/{mid}/checkpoints/weights/ck/archive").status == 200
    assert w.ok("alice", "session_heartbeat", {"session_id": ids["sid"]})
    assert w.ok("alice", "get_info", {"model_id": mid})["model_id"] == mid
    # The admin key sees and reads every user's objects.
    assert w.call("admin", "GET", f"training_runs/{mid}").status == 200
    assert w.call("admin", "GET", f"samplers/{ids['sampler']}").status == 200


def test_isolation_over_http_with_the_real_server() -> None:
    with running(api_keys=KEYS) as live:
        alice, bob = Client(live.url, KEYS["alice"]), Client(live.url, KEYS["bob"])
        sid = alice.session()
        mid = alice.model(sid)
        assert bob.call("GET", f"training_runs/{mid}")[0] == 404
        assert bob.post("get_info", {"model_id": mid})[0] == 404
        assert mid not in json.dumps(bob.call("GET", "training_runs")[1])
        assert alice.call("GET", f"training_runs/{mid}")[0] == 200
        alice.close()
        bob.close()
