"""A scripted, recording Tinker endpoint on loopback for client tests.

It implements just enough of the protocol to drive every client method, records every request
(headers, path, decoded JSON or protobuf body), applies training submissions once per
(model_id, seq_id) in seq order, and lets a test queue scripted replies (faults) per path.
It is a test fixture, not the local server (that is ``tinkerlite.local``).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tinkerlite.codec.fwdbwd_proto import decode_forward_backward_request
from tinkerlite.codec.results_proto import encode_forward_backward_output, encode_sample_response
from tinkerlite.types import ForwardBackwardOutput, SampledSequence, SampleResponse, TensorData

API_KEY = "tml-test-key-0123456789"


@dataclass
class Recorded:
    method: str
    path: str  # without the base prefix and query
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    proto: Any = None
    t: float = 0.0


@dataclass
class Reply:
    status: int
    body: Any = None  # dict -> JSON; bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class _Future:
    kind: str
    ready: threading.Event
    compute: Callable[[], Any] | None = None
    result: Any = None
    error: dict[str, Any] | None = None


def make_jwt(claims: dict[str, Any]) -> str:
    def enc(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(claims)}.sig"


def fake_logprob(token: int) -> float:
    return -((token % 7) + 1) / 10.0


class RecordingServer:
    def __init__(
        self,
        prefix: str = "/svc/tinker",
        client_config: dict[str, Any] | None = None,
        long_poll_s: float = 0.3,
        api_key: str = API_KEY,
    ) -> None:
        self.prefix = prefix
        self.client_config = {"pjwt_auth_enabled": False, "use_pyqwest_transport": False, **(client_config or {})}
        self.long_poll_s = long_poll_s
        self.api_key = api_key
        self.records: list[Recorded] = []
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.futures: dict[str, _Future] = {}
        self._ids = itertools.count(1)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.models: dict[str, dict[str, Any]] = {}
        self.applied: dict[str, list[int]] = defaultdict(list)  # model_id -> seq ids applied, in order
        self.submitted: dict[tuple[str, int], str] = {}  # (model_id, seq) -> request_id
        self.pending: dict[str, dict[int, Callable[[], None]]] = defaultdict(dict)
        self.sample_submitted: dict[tuple[str, int], str] = {}
        self.hold_fwdbwd_until_optim = False
        self.hold_timeouts = 0
        self.optim_seen: dict[str, threading.Event] = defaultdict(threading.Event)
        self.heartbeats = 0
        self.jwts: list[str] = []
        handler = self._make_handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    # ---- lifecycle --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{self.prefix}"

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[path].extend(replies)

    def calls(self, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.records if path is None or r.path == path]

    # ---- futures ----------------------------------------------------------------------------------

    def _new_future(self, kind: str, compute: Callable[[], Any] | None = None) -> str:
        rid = f"req-{next(self._ids)}"
        fut = _Future(kind, threading.Event())
        self.futures[rid] = fut
        if compute is not None:
            fut.result = compute()
        fut.ready.set()
        return rid

    def _train_submit(self, model_id: str, seq_id: int, kind: str, compute: Callable[[], Any]) -> str:
        """Idempotent by (model_id, seq_id); applied strictly in seq order."""
        with self.cond:
            key = (model_id, seq_id)
            if key in self.submitted:
                return self.submitted[key]
            rid = f"req-{next(self._ids)}"
            fut = _Future(kind, threading.Event())
            self.futures[rid] = fut
            self.submitted[key] = rid

            def apply() -> None:
                try:
                    fut.result = compute()
                except Exception as e:
                    fut.error = {"error": str(e), "category": "user"}
                self.applied[model_id].append(seq_id)
                fut.ready.set()

            self.pending[model_id][seq_id] = apply
            self._drain(model_id)
            return rid

    def _drain(self, model_id: str) -> None:
        model = self.models[model_id]
        while model["next_seq"] in self.pending[model_id]:
            self.pending[model_id].pop(model["next_seq"])()
            model["next_seq"] += 1
        self.cond.notify_all()

    # ---- behaviour --------------------------------------------------------------------------------

    def _fwdbwd_output(self, msg: Any) -> ForwardBackwardOutput:
        outs = []
        total = 0.0
        for d in msg.data:
            tt = d.loss_fn_inputs["target_tokens"]
            targets = tt.dense_flat(0) if tt.is_sparse else tt.flat
            lps = [fake_logprob(int(t)) for t in targets]
            w = d.loss_fn_inputs.get("weights")
            weights = list(w.dense_flat(0) if w is not None else [1.0] * len(lps))
            total += -sum(a * b for a, b in zip(weights, lps, strict=True))
            outs.append({"logprobs": TensorData(data=lps, dtype="float32", shape=list(tt.resolved_shape))})
        return ForwardBackwardOutput("ArrayRecord", outs, {"loss:sum": total, "n:mean": float(len(msg.data))})

    def _sample_result(self, body: dict[str, Any]) -> SampleResponse:
        prompt_tokens = [t for c in body["prompt"]["chunks"] for t in c.get("tokens", [])]
        n = body["num_samples"]
        max_tokens = body["sampling_params"].get("max_tokens") or 4
        seqs = [
            SampledSequence(
                "length", [(len(prompt_tokens) + i + j) % 50 for j in range(max_tokens)], [-0.5] * max_tokens
            )
            for i in range(n)
        ]
        plp = None
        if body.get("prompt_logprobs"):
            plp = [None] + [fake_logprob(t) for t in prompt_tokens[1:]]
        return SampleResponse(seqs, prompt_logprobs=plp)

    def handle(self, rec: Recorded) -> Reply:
        p, b = rec.path, rec.json
        if p == "/api/v1/auth/token" and rec.headers.get("x-api-key") == self.api_key:
            with self.lock:
                jwt = make_jwt({"sub": "user", "exp": int(time.time()) + 3600, "n": len(self.jwts)})
                self.jwts.append(jwt)
            return Reply(200, {"jwt": jwt})
        if rec.headers.get("x-api-key") != self.api_key and rec.headers.get("x-api-key") not in self.jwts:
            return Reply(401 if not rec.headers.get("x-api-key") else 403, {"detail": "bad key"})
        with self.lock:
            if p == "/api/v1/client/config":
                return Reply(200, self.client_config)
            if p == "/api/v1/client/dynamic_config":
                return Reply(200, {"refresh_interval_sec": 300})
            if p == "/api/v1/create_session":
                sid = f"sess-{len(self.sessions) + 1}"
                self.sessions[sid] = {"body": b, "finished": None}
                return Reply(200, {"session_id": sid, "type": "create_session"})
            if p == "/api/v1/session_heartbeat":
                self.heartbeats += 1
                if self.sessions.get(b["session_id"], {}).get("finished"):
                    return Reply(410, {"detail": "finished"})
                return Reply(200, {"type": "session_heartbeat"})
            if p.startswith("/api/v1/sessions/") and p.endswith("/finish"):
                sid = p.split("/")[4]
                self.sessions[sid]["finished"] = self.sessions[sid]["finished"] or b["reason"]["type"]
                return Reply(204)
            if p == "/api/v1/create_model":
                model_id = f"{b['session_id']}:train:{b['model_seq_id']}"
                self.models[model_id] = {"base_model": b["base_model"], "next_seq": 1}
                return Reply(
                    200,
                    {"request_id": self._new_future("json", lambda: {"model_id": model_id, "type": "create_model"})},
                )
            if p == "/api/v1/load_weights":
                if "session_id" in b:
                    model_id = f"{b['session_id']}:train:{b['model_seq_id']}"
                    self.models[model_id] = {"base_model": b.get("base_model") or "Base/Model", "next_seq": 1}
                    rid = self._new_future("json", lambda: {"path": b["path"], "model_id": model_id})
                    return Reply(200, {"request_id": rid})
                rid = self._train_submit(b["model_id"], b["seq_id"], "json", lambda: {"path": b["path"]})
                return Reply(200, {"request_id": rid, "model_id": b["model_id"]})
            if p == "/api/v1/get_info":
                base = self.models.get(b["model_id"], {}).get("base_model", "Base/Model")
                return Reply(
                    200,
                    {
                        "model_data": {"model_name": base, "arch": "llama"},
                        "model_id": b["model_id"],
                        "type": "get_info",
                    },
                )
            if p == "/api/v1/forward_backward":
                msg = rec.proto
                rid = self._train_submit(msg.model_id, msg.seq_id, "fbo", lambda: self._fwdbwd_output(msg))
                return Reply(200, {"request_id": rid, "model_id": msg.model_id})
            if p == "/api/v1/optim_step":
                self.optim_seen[b["model_id"]].set()
                rid = self._train_submit(
                    b["model_id"],
                    b["seq_id"],
                    "json",
                    lambda: {"metrics": {"lr:mean": (b.get("adam_params") or b["optimizer_params"])["learning_rate"]}},
                )
                return Reply(200, {"request_id": rid, "model_id": b["model_id"]})
            if p == "/api/v1/save_weights":
                mid = b["model_id"]
                rid = self._train_submit(
                    mid, b["seq_id"], "json", lambda: {"path": f"tinker://{mid}/weights/{b['path']}"}
                )
                return Reply(200, {"request_id": rid})
            if p == "/api/v1/save_weights_for_sampler":
                mid = b["model_id"]
                if "path" in b:
                    res = {"path": f"tinker://{mid}/sampler_weights/{b['path']}"}
                else:
                    sess = mid.split(":")[0]
                    res = {"sampling_session_id": f"{sess}:sample:{b['sampling_session_seq_id']}"}
                rid = self._train_submit(mid, b["seq_id"], "json", lambda: res)
                return Reply(200, {"request_id": rid})
            if p == "/api/v1/create_sampling_session":
                return Reply(200, {"sampling_session_id": f"{b['session_id']}:sample:{b['sampling_session_seq_id']}"})
            if p.startswith("/api/v1/samplers/"):
                return Reply(200, {"sampler_id": p.split("/")[-1], "base_model": "Base/Model"})
            if p == "/api/v1/asample":
                key = (b["sampling_session_id"], b["seq_id"])
                ids = [f"{b['sampling_session_id']}:{b['seq_id']}:{i}" for i in range(b["num_samples"])]
                if key not in self.sample_submitted:
                    self.sample_submitted[key] = self._new_future("sample", None)
                    self.futures[self.sample_submitted[key]].result = self._sample_result(b)
                return Reply(200, {"request_id": self.sample_submitted[key], "sample_sequence_ids": ids})
            if p == "/api/v1/retrieve_future":
                return self._retrieve(rec)
            if p == "/api/v1/get_server_capabilities":
                return Reply(200, {"supported_models": [{"model_name": "Base/Model", "trainable": True}]})
            if p == "/api/v1/healthz":
                return Reply(200, {"status": "ok"})
            if p == "/api/v1/weights_info":
                return Reply(200, {"base_model": "Base/Model", "is_lora": True, "lora_rank": 8})
            if p.startswith("/api/v1/training_runs") and p.endswith("/checkpoints") and rec.method == "GET":
                return Reply(200, {"checkpoints": []})
            if p.startswith("/api/v1/training_runs/") and rec.method in ("DELETE", "POST", "PUT"):
                return Reply(204)
            if p == "/api/v1/telemetry":
                return Reply(200, {"status": "accepted"})
        return Reply(404, {"detail": f"no route {rec.method} {p}"})

    def _retrieve(self, rec: Recorded) -> Reply:
        rid = rec.json["request_id"]
        fut = self.futures.get(rid)
        if fut is None:
            return Reply(404, {"detail": "unknown request"})
        if fut.kind == "fbo" and self.hold_fwdbwd_until_optim:
            mid = rid  # hold until any optim_step arrives for the model of this future
            model_ids = [m for (m, _s), r in self.submitted.items() if r == mid]
            if model_ids and not self.optim_seen[model_ids[0]].is_set():
                self.lock.release()
                try:
                    ok = self.optim_seen[model_ids[0]].wait(5.0)
                finally:
                    self.lock.acquire()
                if not ok:
                    self.hold_timeouts += 1
        if not fut.ready.is_set():
            self.cond.wait_for(fut.ready.is_set, timeout=self.long_poll_s)
        if not fut.ready.is_set():
            return Reply(200, {"type": "try_again", "request_id": rid, "queue_state": "active"})
        if fut.error is not None:
            return Reply(200, fut.error)
        proto = "application/x-protobuf" in rec.headers.get("accept", "")
        if fut.kind == "fbo":
            if proto:
                return Reply(
                    200, encode_forward_backward_output(fut.result), {"Content-Type": "application/x-protobuf"}
                )
            return Reply(200, fut.result.to_json())
        if fut.kind == "sample":
            if proto:
                return Reply(200, encode_sample_response(fut.result), {"Content-Type": "application/x-protobuf"})
            return Reply(200, fut.result.to_json())
        return Reply(200, fut.result)

    # ---- HTTP plumbing ----------------------------------------------------------------------------

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                if not path.startswith(server.prefix):
                    self._send(Reply(404, {"detail": "missing prefix"}))
                    return
                path = path[len(server.prefix) :]
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec = Recorded(self.command, path, query, headers, raw, t=time.monotonic())
                body = raw
                if headers.get("content-encoding") == "zstd":
                    from tinkerlite.codec.zstd import decompress

                    body = decompress(raw)
                if headers.get("content-type", "").startswith("application/x-protobuf"):
                    rec.proto = decode_forward_backward_request(body)
                elif body:
                    rec.json = json.loads(body)
                with server.lock:
                    server.records.append(rec)
                    scripted = server.scripts[path].popleft() if server.scripts.get(path) else None
                reply = scripted or server.handle(rec)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(reply.body, (bytes, bytearray)):
                    payload = bytes(reply.body)
                    ctype = reply.headers.get("Content-Type", "application/octet-stream")
                elif reply.body is None:
                    payload, ctype = b"", "application/json"
                else:
                    payload, ctype = json.dumps(reply.body).encode(), "application/json"
                self.send_response(reply.status)
                hdrs = {"Content-Type": ctype, **reply.headers}
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                # one write for head and body: no Nagle/delayed-ACK stall between them
                self._headers_buffer.append(b"\r\n" + payload)  # type: ignore[attr-defined]
                self.flush_headers()

            do_GET = do_POST = do_PUT = do_DELETE = _do

        return Handler
