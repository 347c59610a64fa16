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
from typing import Any

from tinkerlite.errors import ProtocolError, ValidationError
from tinkerlite.types import ClientConfigResponse, Datum, ModelInput, tensor_from_json

from . import admin_routes, auth, copy_weights, external_weights, wire
from .http_types import PROTOBUF, HTTPError, Request, Response, json_response
from .rest_routes import RestRoutes
from .route_base import RouterOptions
from .sampling_routes import SamplingRoutes
from .scheduler import OpError, SeqError
from .service import LocalService

__all__ = ["Router", "RouterOptions"]

log = logging.getLogger("tinkerlite.local")


Handler = Callable[[Request, "re.Match[str]"], Response]


class Router(SamplingRoutes, RestRoutes):
    """Every route of the server: dispatch, sessions and training here, sampling and REST in their mixins."""

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
