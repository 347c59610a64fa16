"""Fuzz tier with the limits on: 10,000 requests over the whole route table, with no key, wrong keys and
three users' keys, bodies over the limit, zstd garbage and bombs, malformed heads and costly samples.
Not one may answer 5xx, and the server still serves a real client afterwards."""

from __future__ import annotations

import json
import random
import re
import socket
from typing import Any

import pytest

from tinkerlite.local.limits import ServerLimits

from ._guard import BASE, Client, datum_json, running

pytestmark = pytest.mark.slow

N = 10_000
KEYS = {"alice": "tml-fuzz-alice-00000001", "bob": "tml-fuzz-bob-000000002", "admin": "tml-fuzz-admin-00000003"}
WEIRD: list[Any] = [None, True, 0, -1, 2**31, 2**63, 1.5, "", "x", "../etc", "tinker://a/weights/b", [], {}, [1, "a"]]
FIELDS = ["session_id", "model_id", "seq_id", "model_seq_id", "path", "request_id", "sampling_session_id",
          "num_samples", "prompt", "sampling_params", "tinker_path", "base_model", "model_path"]  # fmt: skip


def _zstd_bomb() -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor(level=19).compress(b"\0" * (4 << 20)))


def _fill_path(pattern: str, rng: random.Random, real: dict[str, str]) -> str:
    text = pattern.removesuffix(r"\Z")

    def group(m: re.Match[str]) -> str:
        name = m.group(1)
        choices = {
            "sid": [real["sid"], real["sampler"], "nope"],
            "run": [real["mid"], "nope:train:0", "..", "a" * 300],
            "kind": ["weights", "sampler_weights", "external_weights", "bogus"],
            "name": ["ck", "nope", "..", "%2e%2e"],
            "rel": ["adapter_config.json", "x"],
        }.get(name, ["x"])
        return rng.choice(choices)

    return re.sub(r"\(\?P<(\w+)>[^)]*\)", group, text).replace("\\", "")


def _body(rng: random.Random, real: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for f in rng.sample(FIELDS, rng.randint(0, 6)):
        body[f] = rng.choice([*WEIRD, real["sid"], real["mid"], real["sampler"], f"tinker://{real['mid']}/weights/ck"])
    if rng.random() < 0.2:
        body["num_samples"] = rng.choice([256, 10**6])
        body["sampling_params"] = {"max_tokens": rng.choice([10**6, 2048])}
        body["prompt"] = {"chunks": [{"type": "encoded_text", "tokens": [1, 2]}]}
    if rng.random() < 0.1:
        body["forward_backward_input"] = {"data": [datum_json([1, 2, 3])]}
    return body


def _raw_head(url: str, head: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head)
        out = b""
        try:
            while len(out) < 12:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return out


def test_fuzz_with_limits_never_answers_5xx() -> None:
    lim = ServerLimits(max_body_bytes=16 * 1024, max_header_bytes=4096, max_sample_tokens=4096, body_timeout_s=5.0)
    rng = random.Random(16)
    bomb = _zstd_bomb()
    with running(lim, api_keys=KEYS, long_poll_s=0.05) as live:
        alice = Client(live.url, KEYS["alice"])
        sid = alice.session()
        mid = alice.model(sid)
        alice.result(alice.ok("save_weights", {"model_id": mid, "seq_id": 1, "path": "ck"})["request_id"])
        sampler = alice.ok(
            "create_sampling_session", {"session_id": sid, "sampling_session_seq_id": 0, "base_model": BASE}
        )["sampling_session_id"]
        real = {"sid": sid, "mid": mid, "sampler": sampler}
        routes = [(m, p.pattern) for m, p, _ in live.router._routes]
        clients = {k: Client(live.url, v) for k, v in [*KEYS.items(), ("none", None), ("wrong", "tml-wrong-000000000")]}
        statuses: dict[int, int] = {}
        five: list[str] = []
        for i in range(N):
            method, pattern = rng.choice(routes)
            if rng.random() < 0.03:
                method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
            path = _fill_path(pattern, rng, real)
            who = rng.choice(list(clients))
            roll = rng.random()
            headers = {"Content-Type": "application/json"}
            if roll < 0.03:
                status_line = _raw_head(live.url, rng.choice([
                    b"GARBAGE\r\n\r\n",
                    b"GET /api/v1/healthz HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n",
                    b"POST /api/v1/asample HTTP/1.1\r\nContent-Length: -4\r\n\r\n",
                    b"POST /api/v1/asample HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    b"POST /api/v1/asample HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
                ]))  # fmt: skip
                status = int(status_line[9:12]) if status_line[:5] == b"HTTP/" else 0
            else:
                if roll < 0.08:
                    data = b"{" + b" " * (lim.max_body_bytes + rng.randint(1, 1000)) + b"}"
                elif roll < 0.12:
                    data, headers = rng.choice([bomb, b"\x28\xb5\x2f\xfd garbage"]), {"Content-Encoding": "zstd"}
                elif roll < 0.2:
                    text = json.dumps(_body(rng, real))
                    data = text[: rng.randrange(len(text) + 1)].encode()
                else:
                    data = json.dumps(_body(rng, real)).encode()
                status, _, _ = clients[who].raw(method, path, data if method != "GET" else None, headers)
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 500 or status == 0:
                five.append(f"{i}: {method} {path} as {who} -> {status}")
        print("fuzz statuses:", dict(sorted(statuses.items())))
        assert five == [], five[:10]
        assert sum(statuses.values()) == N
        assert {400, 401, 403, 404, 405, 411, 413, 431} <= set(statuses), statuses  # the limits were exercised
        assert alice.call("GET", "healthz")[0] == 200
        assert alice.model(alice.session(), seq=0)
        for c in clients.values():
            c.close()
        alice.close()
