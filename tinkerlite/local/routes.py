"""HTTP routes of the local Tinker server: request → response, no sockets.

:class:`Router` parses each request (JSON, or protobuf for ``forward_backward``), checks it, calls
:class:`~tinkerlite.local.service.LocalService`, and encodes the answer per §2/§3 of the protocol
document: JSON replies always carry ``Content-Type: application/json`` and never NaN; a bad request
gets a 4xx with ``{"detail": message}``; a request that fails while running becomes a failed future,
``{"error", "category"}`` with status 200, when it is polled.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tinkerlite.codec.json_codec import loads
from tinkerlite.errors import ProtocolError, ValidationError
from tinkerlite.types import ClientConfigResponse, Datum, ModelInput, tensor_from_json

from . import admin_routes, auth, copy_weights, external_weights, wire
from .futures import FutureState
from .http_types import PROTOBUF, HTTPError, Request, Response, json_response
from .limits import ServerLimits, check_sample_cost
from .scheduler import OpError, SeqError
from .service import LocalService, SampleJob
from .store import KIND_TO_TYPE, check_ttl, now_iso

__all__ = ["Router", "RouterOptions"]

log = logging.getLogger("tinkerlite.local")

_INT32_MAX = (1 << 31) - 1


@dataclass(frozen=True)
class RouterOptions:
    api_key: str | None = None
    long_poll_s: float = 25.0
    max_body_bytes: int = 64 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    client_config: dict[str, Any] = field(default_factory=dict)  # overrides of ClientConfigResponse fields
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)  # user -> key (see auth.py)
    limits: ServerLimits = field(default_factory=ServerLimits)


Handler = Callable[[Request, "re.Match[str]"], Response]


class Router:
    def __init__(self, service: LocalService, options: RouterOptions | None = None) -> None:
        self.service = service
        self.options = options or RouterOptions()
        self.keyring = auth.KeyRing.single(self.options.api_key).merged(auth.KeyRing(self.options.api_keys))
        self.stats: Counter[str] = Counter()  # what kinds of bodies arrived; tests use it to prove a path ran
        r = self._routes = []  # type: list[tuple[str, re.Pattern[str], Handler]]

        def add(method: str, pattern: str, fn: Handler) -> None:
            r.append((method, re.compile(pattern + r"\Z"), fn))

        add("POST", "client/config", self.client_config)
        add("POST", "client/dynamic_config", self.dynamic_config)
        add("POST", "create_session", self.create_session)
        add("POST", "session_heartbeat", self.heartbeat)
        add("POST", r"sessions/(?P<sid>[^/]+)/finish", self.finish_session)
        add("POST", "telemetry", lambda req, m: json_response({"status": "accepted"}))
        add("GET", "healthz", lambda req, m: json_response({"status": "ok"}))
        add("GET", "_tinkerlite/stats", lambda req, m: json_response(dict(self.stats)))  # local-only diagnostics
        add("GET", "get_server_capabilities", self.capabilities)
        add("POST", "create_model", self.create_model)
        add("POST", "get_info", self.get_info)
        add("POST", "forward_backward", self.forward_backward)
        add("POST", "forward", self.forward_legacy)
        add("POST", "optim_step", self.optim_step)
        add("POST", "save_weights", self.save_weights)
        add("POST", "save_weights_for_sampler", self.save_weights_for_sampler)
        add("POST", "load_weights", self.load_weights)
        add("POST", "unload_model", self.unload_model)
        add("POST", "weights_info", self.weights_info)
        add("POST", "create_sampling_session", self.create_sampling_session)
        add("GET", r"samplers/(?P<sid>.+)", self.get_sampler)
        add("POST", "asample", self.asample)
        add("POST", "retrieve_future", self.retrieve_future)
        add("POST", "cancel_future", lambda req, m: json_response({}))
        add("GET", "training_runs", self.list_training_runs)
        add("GET", r"training_runs/(?P<run>[^/]+)", self.get_training_run)
        add("GET", r"training_runs/(?P<run>[^/]+)/checkpoints", self.list_run_checkpoints)
        ck = r"training_runs/(?P<run>[^/]+)/checkpoints/(?P<kind>[^/]+)/(?P<name>[^/]+)"
        add("DELETE", ck, self.delete_checkpoint)
        add("POST", ck + "/publish", lambda req, m: self.publish(m, True))
        add("DELETE", ck + "/publish", lambda req, m: self.publish(m, False))
        add("PUT", ck + "/ttl", self.set_ttl)
        add("GET", "checkpoints", self.list_checkpoints)
        add("GET", "sessions", self.list_sessions)
        add("GET", r"sessions/(?P<sid>[^/]+)", self.get_session)
        add("POST", "sessions/search", self.search_sessions)
        external_weights.add_routes(self)  # save_weights_external, its signed download URLs and files
        admin_routes.add_routes(self)  # AdminClient: audit log, billing events, checkpoint storage usage
        copy_weights.add_routes(self)  # copy a checkpoint into a new, untrainable training run

    # ---- dispatch ---------------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            return self._dispatch(req)
        except HTTPError as e:
            return json_response({"detail": e.message}, e.status)
        except (OpError, SeqError, ValidationError, ProtocolError) as e:
            return json_response({"detail": str(e)}, 400)
        except KeyError as e:
            msg = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
            return json_response({"detail": msg}, 404)
        except ImportError as e:  # a missing optional package: no retry can fix it, so say so once
            log.error("%s %s: %s", req.method, req.path, e)
            return json_response({"detail": str(e)}, 500, headers={"x-should-retry": "false"})
        except Exception as e:  # a bug: say so, keep serving
            log.exception("internal error on %s %s", req.method, req.path)
            return json_response({"detail": f"internal error: {type(e).__name__}: {e}"}, 500)

    def authenticate(self, req: Request) -> auth.Principal:
        """Who sent ``req`` (from its head alone: the server calls this before reading the body)."""
        if req.path == "healthz" or external_weights.is_signed_file_request(req.path):
            return auth.SYSTEM  # no key needed; a signed URL is its own authority
        try:
            return self.keyring.authenticate(req.header("x-api-key"))
        except auth.AuthError as e:
            raise HTTPError(e.status, e.message) from None

    def _dispatch(self, req: Request) -> Response:
        with auth.as_principal(self.authenticate(req)):
            return self._route(req)

    def _route(self, req: Request) -> Response:
        allowed = []
        for method, pattern, fn in self._routes:
            m = pattern.match(req.path)
            if m is None:
                continue
            if method == req.method:
                return fn(req, m)
            allowed.append(method)
        if allowed:
            raise HTTPError(405, f"{req.method} is not allowed on /api/v1/{req.path} (allowed: {', '.join(allowed)})")
        raise HTTPError(404, f"no such endpoint: {req.method} /api/v1/{req.path}")

    # ---- request parsing helpers ------------------------------------------------------------------------

    @staticmethod
    def _json(req: Request) -> dict[str, Any]:
        if not req.body.strip():
            return {}
        try:
            obj = loads(req.body)
        except (ProtocolError, ValueError, RecursionError) as e:
            raise HTTPError(400, f"request body is not valid JSON: {e}") from None
        if not isinstance(obj, dict):
            raise HTTPError(400, f"request body must be a JSON object, got {type(obj).__name__}")
        return obj

    @staticmethod
    def _int(obj: dict[str, Any], key: str, *, default: int | None = None, lo: int = 0, hi: int = _INT32_MAX) -> int:
        v = obj.get(key, default)
        if v is None:
            if default is None:
                raise HTTPError(400, f"missing required field {key!r}")
            v = default
        if isinstance(v, bool) or not isinstance(v, int):
            raise HTTPError(400, f"{key} must be an integer, got {v!r}")
        if not lo <= v <= hi:
            raise HTTPError(400, f"{key} must lie in [{lo}, {hi}], got {v}")
        return v

    @staticmethod
    def _str(obj: dict[str, Any], key: str, *, required: bool = True) -> str | None:
        v = obj.get(key)
        if v is None:
            if required:
                raise HTTPError(400, f"missing required field {key!r}")
            return None
        if not isinstance(v, str):
            raise HTTPError(400, f"{key} must be a string, got {type(v).__name__}")
        return v

    @staticmethod
    def _bool(obj: dict[str, Any], key: str, default: bool) -> bool:
        v = obj.get(key, default)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise HTTPError(400, f"{key} must be a boolean, got {v!r}")
        return v

    @staticmethod
    def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
        v = obj.get(key)
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise HTTPError(400, f"{key} must be an object")
        return v

    def _session(self, session_id: object) -> str:
        s = self.service.sessions.get(session_id)
        if s is None:
            raise HTTPError(404, f"unknown session_id {session_id!r}")
        return s.session_id

    @staticmethod
    def _future(fut: FutureState, model_id: str | None = None, **extra: Any) -> Response:
        body: dict[str, Any] = {"request_id": fut.request_id}
        if model_id is not None:
            body["model_id"] = model_id
        body.update(extra)
        return json_response(body)

    # ---- config and sessions ----------------------------------------------------------------------------

    def client_config(self, req: Request, m: re.Match[str]) -> Response:
        self._json(req)
        cfg = ClientConfigResponse(pjwt_auth_enabled=False, use_pyqwest_transport=False).to_json()
        cfg.update(self.options.client_config)
        return json_response(cfg)

    def dynamic_config(self, req: Request, m: re.Match[str]) -> Response:
        self._json(req)
        return json_response({"refresh_interval_sec": 300, "sample_cancel_enabled": False})

    def create_session(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        tags = body.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise HTTPError(400, "tags must be a list of strings")
        s = self.service.sessions.create(
            tags, self._dict(body, "user_metadata"), self._str(body, "display_name", required=False)
        )
        return json_response({"session_id": s.session_id, "type": "create_session"})

    def heartbeat(self, req: Request, m: re.Match[str]) -> Response:
        sid = self._str(self._json(req), "session_id")
        s = self.service.sessions.heartbeat(sid or "")
        if s is None:
            raise HTTPError(404, f"unknown session_id {sid!r}")
        if s.finished:
            raise HTTPError(410, f"session {sid} is finished")
        return json_response({"type": "session_heartbeat"})

    def finish_session(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        reason = body.get("reason")
        kind = reason.get("type") if isinstance(reason, dict) else None
        s = self.service.sessions.finish(m["sid"], kind if isinstance(kind, str) else "success")
        if s is None:
            raise HTTPError(404, f"unknown session_id {m['sid']!r}")
        self.service.finish_session(s.session_id)
        return json_response({"status": "finished", "reason": s.finished})

    def capabilities(self, req: Request, m: re.Match[str]) -> Response:
        models = [
            {"model_name": s.name, "max_context_length": s.max_seq_len, "trainable": True, "sampleable": True}
            for s in self.service.registry.values()
        ]
        return json_response({"supported_models": models})

    # ---- models -----------------------------------------------------------------------------------------

    def create_model(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        sid = self._session(body.get("session_id"))
        seq = self._int(body, "model_seq_id")
        optimizer = self._optimizer_type(body)
        fut = self.service.create_model(
            sid, seq, body.get("base_model"), body.get("lora_config"), self._dict(body, "user_metadata"), optimizer
        )
        return self._future(fut, f"{sid}:train:{seq}")

    def get_info(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        tm = self.service.model(self._str(body, "model_id"))
        return json_response(
            {
                "model_data": {"arch": tm.spec.arch, "model_name": tm.spec.name, "tokenizer_id": tm.spec.tokenizer_id},
                "model_id": tm.model_id,
                "type": "get_info",
                "is_lora": True,
                "lora_rank": tm.lora["rank"],
                "model_name": tm.spec.name,
                "optimizer_config": (
                    {"type": "dimuon", "version": 1} if tm.model.optimizer_kind == "dimuon" else {"type": "adamw"}
                ),
            }
        )

    @staticmethod
    def _optimizer_type(body: dict[str, Any]) -> str:
        """``optimizer_config`` (0.38): absent or ``{"type": "adamw"}``, or ``{"type": "dimuon", "version": 1}``."""
        opt = body.get("optimizer_config")
        if opt is None:
            return "adamw"
        if not isinstance(opt, dict):
            raise HTTPError(400, "optimizer_config must be an object")
        kind = opt.get("type", "adamw")
        if kind not in ("adamw", "dimuon"):
            raise HTTPError(400, f"optimizer_config.type must be one of adamw, dimuon; got {kind!r}")
        if kind == "dimuon" and opt.get("version", 1) != 1:
            raise HTTPError(400, f"optimizer_config.version must be 1 for dimuon; got {opt.get('version')!r}")
        return str(kind)

    def unload_model(self, req: Request, m: re.Match[str]) -> Response:
        mid = self._str(self._json(req), "model_id")
        tm = self.service.model(mid)
        self.service.unload(tm.model_id)
        fut = self.service.futures.create("json", "unload")
        self.service.futures.resolve(fut, {"model_id": tm.model_id, "type": "unload_model"})
        return self._future(fut, tm.model_id)

    def _body_bytes(self, req: Request) -> bytes:
        enc = req.header("content-encoding").strip().lower()
        if not enc or enc == "identity":
            return req.body
        if enc != "zstd":
            raise HTTPError(415, f"unsupported Content-Encoding {enc!r} (zstd only)")
        self.stats["zstd_bodies"] += 1
        return wire.zstd_decompress(req.body, min(self.options.max_decompressed_bytes, self.options.max_body_bytes))

    def forward_backward(self, req: Request, m: re.Match[str]) -> Response:
        body = self._body_bytes(req)
        if "json" in req.header("content-type").lower():
            self.stats["json_fwdbwd"] += 1
            return self._fwdbwd_json(
                self._json(Request(req.method, req.path, body=body)), "forward_backward_input", False
            )
        try:
            msg = wire.decode_fwdbwd(body)
        except (ProtocolError, ValidationError, ValueError) as e:
            raise HTTPError(400, f"cannot decode the protobuf ForwardBackwardRequest: {e}") from None
        self.stats["proto_fwdbwd"] += 1
        return self._submit_fwdbwd(
            msg.model_id, msg.seq_id, lambda: (msg.data, msg.loss_fn, msg.loss_fn_config), msg.forward_only
        )

    def forward_legacy(self, req: Request, m: re.Match[str]) -> Response:
        self.stats["json_forward"] += 1
        return self._fwdbwd_json(self._json(req), "forward_input", True)

    def _fwdbwd_json(self, body: dict[str, Any], key: str, forward_only: bool) -> Response:
        model_id = self._str(body, "model_id")
        seq = self._int(body, "seq_id", lo=1)
        inner = body.get(key)

        def parse() -> tuple[list[Datum], str, dict[str, Any]]:
            if not isinstance(inner, dict):
                raise OpError(f"{key} must be an object")
            raw = inner.get("data")
            if not isinstance(raw, list):
                raise OpError(f"{key}.data must be a list of datums")
            data = []
            for i, d in enumerate(raw):
                if not isinstance(d, dict):
                    raise OpError(f"{key}.data[{i}] must be an object")
                lfi = d.get("loss_fn_inputs") or {}
                if not isinstance(lfi, dict):
                    raise OpError(f"{key}.data[{i}].loss_fn_inputs must be an object")
                data.append(
                    Datum(
                        model_input=ModelInput.from_json(d.get("model_input")),
                        loss_fn_inputs={
                            str(k): tensor_from_json(v, f"data[{i}].loss_fn_inputs.{k}") for k, v in lfi.items()
                        },
                    )
                )
            loss_fn = inner.get("loss_fn", "cross_entropy")
            if not isinstance(loss_fn, str):
                raise OpError(f"{key}.loss_fn must be a string")
            cfg = inner.get("loss_fn_config") or {}
            if not isinstance(cfg, dict):
                raise OpError(f"{key}.loss_fn_config must be an object")
            return data, loss_fn, cfg

        return self._submit_fwdbwd(model_id, seq, parse, forward_only)

    def _submit_fwdbwd(
        self,
        model_id: str | None,
        seq: int,
        parse: Callable[[], tuple[list[Datum], str, Any]],
        forward_only: bool,
    ) -> Response:
        tm = self.service.model(model_id)
        if seq < 1:
            raise HTTPError(400, f"seq_id must be >= 1, got {seq}")
        try:
            data, loss_fn, cfg = parse()
        except (OpError, ValidationError, ProtocolError, ValueError, TypeError) as e:
            # The request names its slot, so take it (as a failure) rather than stall later seq_ids.
            fut = self.service.failed_ordered(tm.model_id, seq, f"invalid forward_backward request: {e}")
            return self._future(fut, tm.model_id)
        fut = self.service.forward_backward(tm.model_id, seq, data, loss_fn, cfg, forward_only)
        return self._future(fut, tm.model_id)

    def optim_step(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        tm = self.service.model(self._str(body, "model_id"))
        seq = self._int(body, "seq_id", lo=1)
        adam = body.get("adam_params")
        other = body.get("optimizer_params")
        if other is not None and adam is None:
            if not isinstance(other, dict) or other.get("type") != "dimuon":
                kind = other.get("type") if isinstance(other, dict) else other
                msg = f"optimizer_params.type must be 'dimuon' (the one non-Adam family); got {kind!r}"
                fut = self.service.failed_ordered(tm.model_id, seq, msg)
            else:
                try:
                    fut = self.service.optim_step_dimuon(tm.model_id, seq, other)
                except OpError as e:
                    fut = self.service.failed_ordered(tm.model_id, seq, str(e))
        elif adam is not None and not isinstance(adam, dict):
            fut = self.service.failed_ordered(tm.model_id, seq, "adam_params must be an object")
        else:
            try:
                fut = self.service.optim_step(tm.model_id, seq, adam or {})
            except OpError as e:
                fut = self.service.failed_ordered(tm.model_id, seq, str(e))
        return self._future(fut, tm.model_id)

    def _save(self, req: Request, sampler: bool) -> Response:
        body = self._json(req)
        tm = self.service.model(self._str(body, "model_id"))
        seq = self._int(body, "seq_id", lo=1)
        name = body.get("path")
        try:
            if sampler and name is None:
                ss_seq = self._int(body, "sampling_session_seq_id")
                fut = self.service.save_for_sampler_unnamed(tm.model_id, seq, ss_seq)
            else:
                fut = self.service.save_weights(
                    tm.model_id,
                    seq,
                    name,
                    sampler=sampler,
                    ttl_seconds=body.get("ttl_seconds"),
                    overwrite=bool(body.get("overwrite") is True),
                    user_metadata=body.get("user_metadata"),
                )
        except (OpError, HTTPError) as e:
            fut = self.service.failed_ordered(tm.model_id, seq, str(e))
        return self._future(fut, tm.model_id)

    def save_weights(self, req: Request, m: re.Match[str]) -> Response:
        return self._save(req, sampler=False)

    def save_weights_for_sampler(self, req: Request, m: re.Match[str]) -> Response:
        return self._save(req, sampler=True)

    def load_weights(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        optimizer = self._bool(body, "optimizer", False)
        path = self._str(body, "path")
        if body.get("model_id") is None:
            # Create-via-load (0.38): the model id is derived from session and model_seq_id.
            sid = self._session(body.get("session_id"))
            seq = self._int(body, "model_seq_id")
            fut = self.service.create_via_load(
                sid, seq, path, optimizer, self._dict(body, "user_metadata"), self._optimizer_type(body)
            )
            return self._future(fut, f"{sid}:train:{seq}")
        tm = self.service.model(self._str(body, "model_id"))
        seq = self._int(body, "seq_id", lo=1)
        try:
            fut = self.service.load_weights(tm.model_id, seq, path, optimizer)
        except OpError as e:
            fut = self.service.failed_ordered(tm.model_id, seq, str(e))
        return self._future(fut, tm.model_id)

    def weights_info(self, req: Request, m: re.Match[str]) -> Response:
        return json_response(self.service.weights_info(self._str(self._json(req), "tinker_path")))

    # ---- sampling ---------------------------------------------------------------------------------------

    def create_sampling_session(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        sid = self._session(body.get("session_id"))
        seq = self._int(body, "sampling_session_seq_id")
        sampler_id = self.service.create_sampling_session(
            sid, seq, self._str(body, "base_model", required=False), self._str(body, "model_path", required=False)
        )
        return json_response({"sampling_session_id": sampler_id, "type": "create_sampling_session"})

    def get_sampler(self, req: Request, m: re.Match[str]) -> Response:
        s = self.service.sampler(m["sid"])
        out: dict[str, Any] = {"sampler_id": s.sampler_id, "base_model": s.spec.name}
        if s.model_path:
            out["model_path"] = s.model_path
        return json_response(out)

    def asample(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        sampler = self.service.sampler_for_request(
            body.get("sampling_session_id"),
            self._str(body, "base_model", required=False),
            self._str(body, "model_path", required=False),
        )
        job = self._sample_job(body, sampler.spec.eos_token_ids)
        check_sample_cost(self.options.limits, job, sampler.spec.max_seq_len)
        key = None
        if body.get("sampling_session_id") is not None and body.get("seq_id") is not None:
            key = (sampler.sampler_id, self._int(body, "seq_id", hi=(1 << 63) - 1))
        fut = self.service.sample(sampler, key, job)
        ids = [f"{fut.request_id}:{i}" for i in range(job.num_samples)]
        return self._future(fut, None, sample_sequence_ids=ids)

    def _sample_job(self, body: dict[str, Any], eos: tuple[int, ...]) -> SampleJob:
        prompt_obj = body.get("prompt")
        try:
            prompt = ModelInput.from_json(prompt_obj).to_ints()
        except (ValidationError, ValueError, TypeError) as e:
            raise HTTPError(400, f"prompt: {e}") from None
        if not prompt:
            raise HTTPError(400, "prompt must hold at least one token")
        sp = self._dict(body, "sampling_params")
        max_tokens = sp.get("max_tokens")
        if max_tokens is not None:
            max_tokens = self._int(sp, "max_tokens", hi=1 << 20)
        seed = sp.get("seed")
        if seed is not None:
            seed = self._int(sp, "seed", hi=(1 << 64) - 1)
        temperature = self._float(sp, "temperature", 1.0, lo=0.0)
        top_p = self._float(sp, "top_p", 1.0, lo=0.0, hi=1.0)
        if top_p == 0.0:
            raise HTTPError(400, "top_p must lie in (0, 1]")
        top_k = sp.get("top_k", -1)
        if top_k is None:
            top_k = -1
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < -1:
            raise HTTPError(400, f"top_k must be -1 or a non-negative integer, got {top_k!r}")
        if top_k == 0:
            top_k = -1
        stop = sp.get("stop")
        stop_ids: tuple[int, ...] = eos
        stop_strings: tuple[str, ...] = ()
        if stop is not None:
            items = [stop] if isinstance(stop, str) else stop
            if not isinstance(items, list):
                raise HTTPError(400, "sampling_params.stop must be a string, a list of strings or a list of token ids")
            if all(isinstance(x, str) for x in items):
                stop_ids, stop_strings = (), tuple(x for x in items if x)
            elif all(isinstance(x, int) and not isinstance(x, bool) for x in items):
                stop_ids = tuple(items)
            else:
                raise HTTPError(400, "sampling_params.stop must not mix strings and token ids")
        for key in ("topk_sample_logprobs", "prompt_alt_tokens_k"):
            if body.get(key) not in (None, 0, False):
                raise HTTPError(400, f"{key} is not supported by the local server")
        if body.get("target_prompt_logprobs") is not None:
            raise HTTPError(400, "target_prompt_logprobs is not supported by the local server")
        last_n = body.get("prompt_logprobs_last_n")
        if last_n is not None:
            last_n = self._int(body, "prompt_logprobs_last_n", hi=1 << 30)
        num_samples = self._int(body, "num_samples", default=1, lo=1, hi=self.service.limits.max_num_samples)
        topk = self._int(body, "topk_prompt_logprobs", default=0, hi=self.service.limits.max_topk)
        return SampleJob(
            prompt=prompt,
            num_samples=num_samples,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
            stop_token_ids=stop_ids,
            stop_strings=stop_strings,
            prompt_logprobs=self._bool(body, "prompt_logprobs", False),
            topk_prompt_logprobs=topk,
            prompt_logprobs_last_n=last_n,
        )

    @staticmethod
    def _float(obj: dict[str, Any], key: str, default: float, lo: float, hi: float = 1e6) -> float:
        v = obj.get(key, default)
        if v is None:
            v = default
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise HTTPError(400, f"{key} must be a number in [{lo}, {hi}], got {v!r}")
        return float(v)

    # ---- futures ----------------------------------------------------------------------------------------

    def retrieve_future(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        rid = self._str(body, "request_id")
        assert rid is not None
        fut = self.service.futures.wait(rid, self.options.long_poll_s)
        if fut is None:
            raise HTTPError(404, f"unknown request_id {rid!r}")
        if not fut.done:
            return json_response({"type": "try_again", "request_id": rid, "queue_state": "active"})
        if fut.error is not None:
            return json_response({"error": fut.error, "category": fut.category})
        want_proto = PROTOBUF in req.header("accept").lower()
        if fut.kind == "fwdbwd":
            if want_proto:
                return Response(200, wire.encode_fwdbwd(fut.value), PROTOBUF)
            return json_response(fut.value.to_json())
        if fut.kind == "sample":
            if want_proto:
                return Response(200, wire.encode_sample(fut.value), PROTOBUF)
            return json_response(fut.value.to_json())
        return json_response(fut.value)

    # ---- REST: runs and checkpoints ---------------------------------------------------------------------

    @staticmethod
    def _page(req: Request, default_limit: int) -> tuple[int, int]:
        def num(key: str, default: int) -> int:
            raw = req.query.get(key)
            if raw is None or raw == "":
                return default
            if not raw.isdigit() or len(raw) > 9:
                raise HTTPError(400, f"query parameter {key} must be a non-negative integer, got {raw!r}")
            return int(raw)

        return num("limit", default_limit), num("offset", 0)

    def _training_run(self, rec: dict[str, Any]) -> dict[str, Any]:
        run_id = rec["training_run_id"]
        ckpts = self.service.store.list_checkpoints(run_id)
        out = {
            "training_run_id": run_id,
            "base_model": rec.get("base_model"),
            "model_owner": rec.get("model_owner", "local"),
            "is_lora": True,
            "corrupted": False,
            "lora_rank": rec.get("lora_rank"),
            "last_request_time": rec.get("last_request_time") or now_iso(),
            "user_metadata": rec.get("user_metadata") or None,
        }
        train = [c for c in ckpts if c.get("checkpoint_type") == "training"]
        samp = [c for c in ckpts if c.get("checkpoint_type") == "sampler"]
        if train:
            out["last_checkpoint"] = train[-1]
        if samp:
            out["last_sampler_checkpoint"] = samp[-1]
        return {k: v for k, v in out.items() if v is not None}

    def list_training_runs(self, req: Request, m: re.Match[str]) -> Response:
        limit, offset = self._page(req, 20)
        runs = self.service.store.list_runs()
        page = runs[offset : offset + limit]
        return json_response(
            {
                "training_runs": [self._training_run(r) for r in page],
                "cursor": {"offset": offset, "limit": limit, "total_count": len(runs)},
            }
        )

    def _run(self, run_id: str) -> dict[str, Any]:
        rec = self.service.store.get_run(run_id)
        if rec is None:
            raise HTTPError(404, f"unknown training run {run_id!r}")
        return rec

    def get_training_run(self, req: Request, m: re.Match[str]) -> Response:
        return json_response(self._training_run(self._run(m["run"])))

    def list_run_checkpoints(self, req: Request, m: re.Match[str]) -> Response:
        self._run(m["run"])
        ckpts = self.service.store.list_checkpoints(m["run"])
        return json_response(
            {"checkpoints": ckpts, "cursor": {"offset": 0, "limit": len(ckpts), "total_count": len(ckpts)}}
        )

    def list_checkpoints(self, req: Request, m: re.Match[str]) -> Response:
        limit, offset = self._page(req, 100)
        ckpts = self.service.store.list_checkpoints()
        return json_response(
            {
                "checkpoints": ckpts[offset : offset + limit],
                "cursor": {"offset": offset, "limit": limit, "total_count": len(ckpts)},
            }
        )

    def _ckpt(self, m: re.Match[str]) -> tuple[str, str, str]:
        run, kind, name = m["run"], m["kind"], m["name"]
        if kind not in KIND_TO_TYPE:
            raise HTTPError(404, f"unknown checkpoint kind {kind!r}")
        self._run(run)
        if self.service.store.get_checkpoint(run, kind, name) is None:
            raise HTTPError(404, f"checkpoint tinker://{run}/{kind}/{name} not found")
        return run, kind, name

    def delete_checkpoint(self, req: Request, m: re.Match[str]) -> Response:
        run, kind, name = self._ckpt(m)
        self.service.store.delete_checkpoint(run, kind, name)
        return json_response({"status": "deleted"})

    def publish(self, m: re.Match[str], public: bool) -> Response:
        run, kind, name = self._ckpt(m)
        rec = self.service.store.get_checkpoint(run, kind, name) or {}
        if bool(rec.get("public")) == public:
            raise HTTPError(409, f"checkpoint is already {'public' if public else 'private'}")
        self.service.store.update_checkpoint(run, kind, name, public=public)
        return json_response({"status": "ok", "public": public})

    def set_ttl(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        run, kind, name = self._ckpt(m)
        ttl = body.get("ttl_seconds")
        if ttl is None:
            rec = self.service.store.update_checkpoint(run, kind, name, expires_at=None)
        else:
            try:
                seconds = check_ttl(ttl)
            except OpError as e:
                raise HTTPError(400, str(e)) from None
            from datetime import datetime, timedelta, timezone

            expires = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()
            rec = self.service.store.update_checkpoint(run, kind, name, expires_at=expires)
        return json_response(rec)

    # ---- REST: sessions ---------------------------------------------------------------------------------

    def list_sessions(self, req: Request, m: re.Match[str]) -> Response:
        limit, offset = self._page(req, 20)
        ids = [s.session_id for s in self.service.sessions.all()]
        return json_response({"sessions": ids[offset : offset + limit]})

    def search_sessions(self, req: Request, m: re.Match[str]) -> Response:
        from .session_search import search_sessions

        store = self.service.store

        def checkpoints_of(s: Any) -> int:
            total = 0
            for run in s.model_ids:
                try:
                    total += len(store.list_checkpoints(run))
                except OpError:
                    continue  # not a stored run
            return total

        return json_response(search_sessions(self.service.sessions.all(), self._json(req), checkpoints_of))

    def get_session(self, req: Request, m: re.Match[str]) -> Response:
        s = self.service.sessions.get(m["sid"])
        if s is None:
            raise HTTPError(404, f"unknown session {m['sid']!r}")
        out: dict[str, Any] = {"training_run_ids": list(s.model_ids), "sampler_ids": list(s.sampler_ids)}
        if s.user_metadata:
            out["user_metadata"] = s.user_metadata
        if s.display_name:
            out["display_name"] = s.display_name
        return json_response(out)
