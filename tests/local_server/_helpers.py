"""Raw-HTTP helpers for the local server tests (urllib only, like a minimal client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from tinkerlite.codec.fwdbwd_proto import encode_forward_backward_request
from tinkerlite.codec.results_proto import decode_forward_backward_output, decode_sample_response
from tinkerlite.types import Datum, ForwardBackwardOutput, ModelInput, SampleResponse

BASE = "tinkerlite/tiny-chat"
PROTO = "application/x-protobuf"


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        assert self.content_type.startswith("application/json"), (self.status, self.content_type, self.body[:200])
        return json.loads(self.body)


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    req = urllib.request.Request(url + "/api/v1/" + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, r.headers.get("Content-Type", ""), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.headers.get("Content-Type", ""), e.read())


def post(url: str, path: str, obj: Any, **headers: str) -> Reply:
    h = {"Content-Type": "application/json", **headers}
    return request(url, "POST", path, json.dumps(obj).encode(), h)


def get(url: str, path: str) -> Reply:
    return request(url, "GET", path)


class Raw:
    """Just enough of a client to drive the server by hand."""

    def __init__(self, url: str) -> None:
        self.url = url
        r = post(url, "create_session", {"tags": [], "user_metadata": {}, "sdk_version": "test"})
        assert r.status == 200, r
        self.session_id: str = r.json()["session_id"]
        self.model_seq = 0
        self.sampling_seq = 0

    def create_model(self, base_model: str = BASE, rank: int = 4, **lora: Any) -> str:
        seq = self.model_seq
        self.model_seq += 1
        body = {
            "session_id": self.session_id,
            "model_seq_id": seq,
            "base_model": base_model,
            "lora_config": {"rank": rank, **lora},
            "type": "create_model",
        }
        r = post(self.url, "create_model", body)
        assert r.status == 200, r
        res = self.result(r.json()["request_id"])
        return str(res["model_id"])

    def result(self, request_id: str, proto: bool = False) -> Any:
        headers = {"Accept": PROTO} if proto else {}
        while True:
            r = post(self.url, "retrieve_future", {"request_id": request_id, "allow_metadata_only": True}, **headers)
            assert r.status == 200, r
            if r.content_type.startswith(PROTO):
                return r.body
            obj = r.json()
            if isinstance(obj, dict) and obj.get("type") == "try_again":
                continue
            return obj

    def submit_fwdbwd(
        self, model_id: str, seq_id: int, data: list[Datum], loss_fn: str = "cross_entropy", forward_only: bool = False
    ) -> str:
        body = encode_forward_backward_request(
            data, loss_fn, model_id=model_id, seq_id=seq_id, forward_only=forward_only
        )
        r = request(self.url, "POST", "forward_backward", body, {"Content-Type": PROTO})
        assert r.status == 200, r
        return str(r.json()["request_id"])

    def fwdbwd(
        self, model_id: str, seq_id: int, data: list[Datum], loss_fn: str = "cross_entropy", forward_only: bool = False
    ) -> ForwardBackwardOutput:
        rid = self.submit_fwdbwd(model_id, seq_id, data, loss_fn, forward_only)
        out = self.result(rid, proto=True)
        assert isinstance(out, bytes), out
        return decode_forward_backward_output(out)

    def optim(self, model_id: str, seq_id: int, lr: float = 1e-2) -> dict[str, Any]:
        body = {"model_id": model_id, "seq_id": seq_id, "adam_params": {"learning_rate": lr}, "type": "optim_step"}
        r = post(self.url, "optim_step", body)
        assert r.status == 200, r
        res: dict[str, Any] = self.result(r.json()["request_id"])
        return res

    def save(self, model_id: str, seq_id: int, name: str, sampler: bool = False) -> dict[str, Any]:
        path = "save_weights_for_sampler" if sampler else "save_weights"
        r = post(self.url, path, {"model_id": model_id, "seq_id": seq_id, "path": name, "type": path})
        assert r.status == 200, r
        res: dict[str, Any] = self.result(r.json()["request_id"])
        return res

    def sample(self, body: dict[str, Any]) -> SampleResponse:
        r = post(self.url, "asample", body)
        assert r.status == 200, r
        out = self.result(r.json()["request_id"], proto=True)
        assert isinstance(out, bytes), out
        return decode_sample_response(out)


def sft_data(n: int = 4, length: int = 16, offset: int = 0) -> list[Datum]:
    out = []
    for i in range(n):
        toks = [((i + offset) * 11 + j * 5) % 120 + 40 for j in range(length + 1)]
        out.append(
            Datum(
                model_input=ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={"target_tokens": toks[1:], "weights": [1.0] * length},
            )
        )
    return out
