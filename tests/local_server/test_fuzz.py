"""Malformed input: every JSON endpoint and the protobuf body get >= 2,000 broken requests each.

Nothing may produce a 5xx or kill the server; every reply is JSON (or protobuf for a poll that asked
for it); the server still answers a health check and a real request afterwards.
"""

from __future__ import annotations

import http.client
import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

import tinkerlite.local
from tinkerlite.codec.fwdbwd_proto import encode_forward_backward_request

from ._helpers import BASE, Raw, sft_data

pytestmark = pytest.mark.slow

N = 2000
_WEIRD: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63,
    -(2**63) - 1,
    10**30,
    1.5,
    -0.0,
    1e308,
    "",
    "x",
    "../../etc/passwd",
    "tinker://a/weights/b",
    "tinker://../weights/x",
    "\u0000",
    "é" * 3,
    [],
    [1, "a", None],
    [[[]]],
    {},
    {"chunks": "no"},
    {"type": "encoded_text"},
    {"data": [1], "dtype": "int64"},
]


class Conn:
    """A keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str, bytes]:
        for attempt in range(2):
            try:
                self.c.request(method, "/api/v1/" + path, body=body, headers=headers)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                return r.status, r.getheader("Content-Type", ""), data
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def mutate(rng: random.Random, obj: Any, depth: int = 0) -> Any:
    """A broken variant of a JSON value: keys dropped, values swapped for odd ones, structure changed."""
    if isinstance(obj, dict) and obj and depth < 4:
        out = dict(obj)
        key = rng.choice(list(out))
        roll = rng.random()
        if roll < 0.3:
            del out[key]
        elif roll < 0.7:
            out[key] = rng.choice(_WEIRD)
        else:
            out[key] = mutate(rng, out[key], depth + 1)
        if rng.random() < 0.2:
            out["unknown_" + str(rng.randint(0, 9))] = rng.choice(_WEIRD)
        return out
    if isinstance(obj, list) and obj and depth < 4:
        out_list = list(obj)
        i = rng.randrange(len(out_list))
        out_list[i] = mutate(rng, out_list[i], depth + 1) if rng.random() < 0.5 else rng.choice(_WEIRD)
        return out_list
    return rng.choice(_WEIRD)


def broken_bodies(rng: random.Random, template: dict[str, Any], n: int) -> Iterator[bytes]:
    for i in range(n):
        kind = i % 10
        if kind < 7:
            yield json.dumps(mutate(rng, template)).encode()
        elif kind == 7:
            text = json.dumps(template).encode()
            yield text[: rng.randrange(len(text))]  # truncated
        elif kind == 8:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))  # garbage
        else:
            yield json.dumps(rng.choice([[], "s", 1, None, [template]])).encode()  # wrong top-level type


def check(status: int, ctype: str, body: bytes, what: str) -> None:
    assert status < 500, (what, status, body[:300])
    assert ctype in ("application/json", "application/x-protobuf"), (what, ctype)
    if ctype == "application/json":
        text = body.decode()
        assert "NaN" not in text and "Infinity" not in text
        json.loads(text)


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[str]:
    with tinkerlite.local.serve(long_poll_s=0.05, max_models=16) as url:
        yield url


def _templates(c: Raw, mid: str, sid: str, ckpt: str) -> dict[str, dict[str, Any]]:
    prompt = {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3]}]}
    datum = {
        "model_input": prompt,
        "loss_fn_inputs": {"target_tokens": {"data": [2, 3, 4], "dtype": "int64", "shape": [3]}},
    }
    return {
        "client/config": {"sdk_version": "0.38.0"},
        "client/dynamic_config": {"sdk_version": "0.38.0"},
        "create_session": {"tags": ["a"], "user_metadata": {}, "sdk_version": "x", "type": "create_session"},
        "session_heartbeat": {"session_id": c.session_id, "type": "session_heartbeat"},
        "telemetry": {"events": [], "platform": "x", "sdk_version": "x", "session_id": c.session_id},
        "create_model": {
            "session_id": c.session_id,
            "model_seq_id": 1000,
            "base_model": BASE,
            "lora_config": {"rank": 2, "train_unembed": True, "train_mlp": True, "train_attn": True},
            "type": "create_model",
        },
        "get_info": {"model_id": mid, "type": "get_info"},
        "forward_backward": {
            "model_id": mid,
            "seq_id": 10**6,
            "forward_backward_input": {"data": [datum], "loss_fn": "cross_entropy"},
        },
        "forward": {"model_id": mid, "seq_id": 10**6, "forward_input": {"data": [datum], "loss_fn": "cross_entropy"}},
        "optim_step": {"model_id": mid, "seq_id": 10**6, "adam_params": {"learning_rate": 1e-3}, "type": "optim_step"},
        "save_weights": {"model_id": mid, "seq_id": 10**6, "path": "n", "type": "save_weights"},
        "save_weights_for_sampler": {
            "model_id": mid,
            "seq_id": 10**6,
            "sampling_session_seq_id": 5,
            "kind": "snapshot",
        },
        "load_weights": {"model_id": mid, "seq_id": 10**6, "path": ckpt, "optimizer": True, "type": "load_weights"},
        "weights_info": {"tinker_path": ckpt},
        "create_sampling_session": {"session_id": c.session_id, "sampling_session_seq_id": 100, "base_model": BASE},
        "asample": {
            "sampling_session_id": sid,
            "seq_id": 0,
            "num_samples": 1,
            "prompt": prompt,
            "sampling_params": {"max_tokens": 2, "temperature": 1.0, "top_k": -1, "top_p": 1.0, "stop": [5]},
            "prompt_logprobs": False,
            "topk_prompt_logprobs": 0,
            "type": "sample",
        },
        "retrieve_future": {"request_id": "sample-1", "allow_metadata_only": True},
        "unload_model": {"model_id": "nope:train:0"},
        f"sessions/{c.session_id}x/finish": {"reason": {"type": "success"}, "detail": None},
        f"training_runs/{mid}/checkpoints/weights/ck/ttl": {"ttl_seconds": 7200},
    }


def test_fuzz_json_endpoints(fuzz_server: str) -> None:
    rng = random.Random(1234)
    c = Raw(fuzz_server)
    mid = c.create_model(rank=2)
    ckpt = c.save(mid, 1, "ck")["path"]
    sid = Raw.__new__(Raw)
    from ._helpers import post

    sid_r = post(
        fuzz_server,
        "create_sampling_session",
        {"session_id": c.session_id, "sampling_session_seq_id": 0, "base_model": BASE},
    )
    sid = sid_r.json()["sampling_session_id"]
    conn = Conn(fuzz_server)
    templates = _templates(c, mid, sid, ckpt)
    for path, template in templates.items():
        method = "PUT" if path.endswith("/ttl") else "POST"
        for body in broken_bodies(rng, template, N):
            headers = {
                "Content-Type": "application/json",
                "Accept": rng.choice(["application/json", "application/x-protobuf"]),
            }
            check(*conn.send(method, path, body, headers), what=f"{method} {path} {body[:120]!r}")
    # REST paths with hostile segments and queries.
    segments = ["..", "%2e%2e", "a" * 500, "%00", "weights", "tinker:", mid, "x/../../y", "", "%C3%A9", "%FF%FE"]
    for _i in range(N):
        seg = rng.choice(segments)
        path = rng.choice(
            [
                f"training_runs/{seg}",
                f"training_runs/{seg}/checkpoints",
                f"training_runs/{mid}/checkpoints/{seg}/{rng.choice(segments)}",
                f"training_runs?limit={seg}&offset={rng.choice(segments)}",
                f"checkpoints?limit={rng.choice(['-1', '1e9', 'x', '99999999999', '5'])}",
                f"samplers/{seg}",
                f"sessions/{seg}",
                f"sessions?offset={seg}",
            ]
        )
        method = rng.choice(["GET", "GET", "DELETE", "POST", "PUT"])
        check(*conn.send(method, path, None, {}), what=f"{method} {path}")
    assert conn.send("GET", "healthz", None, {})[0] == 200
    out = c.fwdbwd(mid, 2, sft_data(1, 4))  # still serves real work
    assert "loss:sum" in out.metrics


def test_fuzz_protobuf_body(fuzz_server: str) -> None:
    rng = random.Random(99)
    c = Raw(fuzz_server)
    mid = c.create_model(rank=2)
    valid = encode_forward_backward_request(sft_data(2, 6), "cross_entropy", model_id=mid, seq_id=10**6)
    conn = Conn(fuzz_server)
    for i in range(N):
        body = bytearray(valid)
        roll = i % 4
        if roll == 0:
            for _ in range(rng.randint(1, 8)):
                body[rng.randrange(len(body))] = rng.randrange(256)  # flipped bytes
        elif roll == 1:
            body = body[: rng.randrange(len(body))]  # truncated
        elif roll == 2:
            pos = rng.randrange(len(body))
            body[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))  # inserted junk
        else:
            body = bytearray(rng.randrange(256) for _ in range(rng.randint(0, 200)))  # noise
        headers = {"Content-Type": "application/x-protobuf"}
        if i % 50 == 0:
            headers["Content-Encoding"] = "zstd"  # not actually zstd
        check(*conn.send("POST", "forward_backward", bytes(body), headers), what=f"proto #{i}")
    assert conn.send("GET", "healthz", None, {})[0] == 200
    assert "loss:sum" in c.fwdbwd(mid, 1, sft_data(1, 4)).metrics
