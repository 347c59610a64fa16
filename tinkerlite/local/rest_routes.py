"""REST routes of the local server: training runs, their checkpoints (delete, publish, TTL), and sessions."""

from __future__ import annotations

import re
from typing import Any

from .http_types import HTTPError, Request, Response, json_response
from .route_base import RouteBase
from .scheduler import OpError
from .store import KIND_TO_TYPE, check_ttl, now_iso

__all__ = ["RestRoutes"]


class RestRoutes(RouteBase):
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
