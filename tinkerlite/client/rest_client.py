"""``RestClient``: session-less REST calls (§2.6), every one through the holder retry layer.

Same methods and signatures as SDK 0.38: each sync method returns an awaitable ``APIFuture``; the
``*_async`` twins are the SDK's deprecated spellings (``await`` the future instead). The admin methods
(audit log, billing) are delegated to :class:`AdminClient` on the same connection, as in the SDK.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ..types.checkpoints_list_response import CheckpointsListResponse
from ..types.copy_weights_request import CopyWeightsRequest
from ..types.copy_weights_response import CopyWeightsResponse
from ..types.external_weights_urls_response import ExternalWeightsUrlsResponse
from ..types.get_sampler_response import GetSamplerResponse
from ..types.get_server_capabilities_response import GetServerCapabilitiesResponse
from ..types.get_session_response import GetSessionResponse
from ..types.list_sessions_response import ListSessionsResponse
from ..types.session_search_request import SessionSearchRequest
from ..types.session_search_response import SessionSearchResponse
from ..types.training_run import TrainingRun
from ..types.training_runs_response import TrainingRunsResponse
from ..types.weights_info_response import WeightsInfoResponse
from ..types.whoami_response import WhoamiResponse
from .admin_client import AdminClient, AuditEventType
from .api_future import APIFuture
from .holder import Holder, jwt_claims

TRACE_EXPORT_POLL_S = 2.0


def parse_tinker_path(tinker_path: str) -> tuple[str, str]:
    """``tinker://<run>/<weights|sampler_weights|external_weights>/<name>`` → (run id, checkpoint id)."""
    if not tinker_path.startswith("tinker://"):
        raise ValueError(f"Invalid tinker path: {tinker_path}")
    parts = tinker_path[len("tinker://") :].split("/")
    if len(parts) != 3 or parts[1] not in ("weights", "sampler_weights", "external_weights"):
        raise ValueError(f"Invalid tinker path: {tinker_path}")
    return parts[0], f"{parts[1]}/{parts[2]}"


def _q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="/:")


def rest_holder(base_url: str | None = None, api_key: str | None = None, **options: Any) -> Holder:
    """A session-less holder (no ``create_session``, no heartbeat), as REST and admin calls use."""
    return Holder(base_url=base_url, api_key=api_key, skip_session=True, **options)


def call(
    holder: Holder,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: Mapping[str, Any] | None = None,
    parse: Callable[[Any], Any] | None = None,
    sdk_method: str,
    headers: Mapping[str, str] | None = None,
) -> APIFuture[Any]:
    """One retried JSON call on the holder loop; ``parse`` turns the decoded body into the result."""
    if query:
        path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})

    async def once() -> Any:
        if headers:  # the rare call with its own headers (a secret token) takes the raw request path
            data = None if body is None else json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
            return holder.decode_json(await holder.request(method, path, data, extra_headers=headers))
        return await holder.call_json(method, path, body)

    async def go() -> Any:
        raw = await holder.execute_with_retries(once)
        return parse(raw) if parse is not None else None

    return APIFuture(holder.run(go(), sdk_method))


class RestClient:
    """Listing and managing training runs, checkpoints and sessions; no training session needed."""

    def __init__(self, _holder: Holder | None = None, *, base_url: str | None = None, api_key: str | None = None):
        if _holder is not None and (base_url is not None or api_key is not None):
            raise ValueError("RestClient: pass either _holder or base_url/api_key, not both")
        self.holder = _holder if _holder is not None else rest_holder(base_url, api_key)

    def close(self) -> None:
        self.holder.shutdown()

    def get_telemetry(self) -> None:
        """tinkerlite collects no telemetry, so there is never a ``Telemetry`` object."""
        return None

    def _call(self, method: str, path: str, body: Any = None, **kw: Any) -> APIFuture[Any]:
        kw["sdk_method"] = f"RestClient.{kw['sdk_method']}"
        return call(self.holder, method, path, body, **kw)

    def _admin_client(self) -> AdminClient:
        return AdminClient(_holder=self.holder)

    # ---- server -------------------------------------------------------------------------------------

    def get_server_capabilities(self) -> APIFuture[GetServerCapabilitiesResponse]:
        return self._call(
            "GET",
            "/api/v1/get_server_capabilities",
            parse=GetServerCapabilitiesResponse.from_json,
            sdk_method="get_server_capabilities",
        )

    async def get_server_capabilities_async(self) -> GetServerCapabilitiesResponse:
        return await self.get_server_capabilities()

    def healthz(self) -> APIFuture[Any]:
        return self._call("GET", "/api/v1/healthz", parse=lambda r: r, sdk_method="healthz")

    # ---- training runs ------------------------------------------------------------------------------

    def get_training_run(self, training_run_id: str, access_scope: str = "owned") -> APIFuture[TrainingRun]:
        return self._call(
            "GET",
            f"/api/v1/training_runs/{_q(training_run_id)}",
            query={"access_scope": access_scope},
            parse=TrainingRun.from_json,
            sdk_method="get_training_run",
        )

    async def get_training_run_async(self, training_run_id: str, access_scope: str = "owned") -> TrainingRun:
        return await self.get_training_run(training_run_id, access_scope)

    def get_training_run_by_tinker_path(self, tinker_path: str, access_scope: str = "owned") -> APIFuture[TrainingRun]:
        return self.get_training_run(parse_tinker_path(tinker_path)[0], access_scope)

    async def get_training_run_by_tinker_path_async(self, tinker_path: str, access_scope: str = "owned") -> TrainingRun:
        return await self.get_training_run_by_tinker_path(tinker_path, access_scope)

    def get_weights_info_by_tinker_path(self, tinker_path: str) -> APIFuture[WeightsInfoResponse]:
        return self._call(
            "POST",
            "/api/v1/weights_info",
            {"tinker_path": tinker_path},
            parse=WeightsInfoResponse.from_json,
            sdk_method="get_weights_info_by_tinker_path",
        )

    def list_training_runs(
        self, limit: int = 20, offset: int = 0, access_scope: str = "owned", project_id: str | None = None
    ) -> APIFuture[TrainingRunsResponse]:
        return self._call(
            "GET",
            "/api/v1/training_runs",
            query={"limit": limit, "offset": offset, "access_scope": access_scope, "project_id": project_id},
            parse=TrainingRunsResponse.from_json,
            sdk_method="list_training_runs",
        )

    async def list_training_runs_async(
        self, limit: int = 20, offset: int = 0, access_scope: str = "owned", project_id: str | None = None
    ) -> TrainingRunsResponse:
        return await self.list_training_runs(limit, offset, access_scope, project_id)

    # ---- checkpoints --------------------------------------------------------------------------------

    def list_checkpoints(self, training_run_id: str) -> APIFuture[CheckpointsListResponse]:
        return self._call(
            "GET",
            f"/api/v1/training_runs/{_q(training_run_id)}/checkpoints",
            parse=CheckpointsListResponse.from_json,
            sdk_method="list_checkpoints",
        )

    async def list_checkpoints_async(self, training_run_id: str) -> CheckpointsListResponse:
        return await self.list_checkpoints(training_run_id)

    def get_external_weights_urls(self, tinker_path: str) -> APIFuture[ExternalWeightsUrlsResponse]:
        """Signed download URLs of an ``external_weights`` checkpoint's files."""
        run, ckpt = parse_tinker_path(tinker_path)
        if not ckpt.startswith("external_weights/"):
            raise ValueError(
                "get_external_weights_urls only accepts external weights checkpoints "
                f"(tinker://<run>/external_weights/<name>), got {tinker_path!r}"
            )
        return self._call(
            "GET",
            f"/api/v1/training_runs/{_q(run)}/checkpoints/{_q(ckpt)}/external_weights_urls",
            parse=ExternalWeightsUrlsResponse.from_json,
            sdk_method="get_external_weights_urls",
        )

    async def get_external_weights_urls_async(self, tinker_path: str) -> ExternalWeightsUrlsResponse:
        return await self.get_external_weights_urls(tinker_path)

    def delete_checkpoint(self, training_run_id: str, checkpoint_id: str) -> APIFuture[None]:
        return self._call(
            "DELETE",
            f"/api/v1/training_runs/{_q(training_run_id)}/checkpoints/{_q(checkpoint_id)}",
            sdk_method="delete_checkpoint",
        )

    async def delete_checkpoint_async(self, training_run_id: str, checkpoint_id: str) -> None:
        await self.delete_checkpoint(training_run_id, checkpoint_id)

    def delete_checkpoint_from_tinker_path(self, tinker_path: str) -> APIFuture[None]:
        return self.delete_checkpoint(*parse_tinker_path(tinker_path))

    async def delete_checkpoint_from_tinker_path_async(self, tinker_path: str) -> None:
        await self.delete_checkpoint_from_tinker_path(tinker_path)

    def get_audit_log(
        self,
        event_type: AuditEventType = "all",
        day: date | None = None,
    ) -> APIFuture[Any]:
        return self._admin_client().get_audit_log(event_type, day)

    async def get_audit_log_async(self, event_type: AuditEventType = "all", day: date | None = None) -> Any:
        return await self._admin_client().get_audit_log(event_type, day)

    def copy_weights(
        self,
        path: str,
        destination_project_id: str | None = None,
        *,
        ttl_seconds: int | None = None,
        weights_access_token: str | None = None,
    ) -> APIFuture[str]:
        """Copy a checkpoint into another project; resolves to the copy's ``tinker://`` path."""
        if destination_project_id is None:
            destination_project_id = os.environ.get("TINKER_PROJECT_ID") or None
        if destination_project_id is None:
            raise ValueError("Provide destination_project_id or set TINKER_PROJECT_ID")
        req = CopyWeightsRequest(
            source_path=path, destination_project_id=destination_project_id, ttl_seconds=ttl_seconds
        )
        headers = {} if weights_access_token is None else {"X-Tinker-Weights-Access-Token": weights_access_token}
        return self._call(
            "POST",
            "/api/v1/copy_weights",
            req.to_json(),
            parse=lambda raw: CopyWeightsResponse.from_json(raw).tinker_path,
            sdk_method="copy_weights",
            headers=headers,
        )

    async def copy_weights_async(
        self,
        path: str,
        destination_project_id: str | None = None,
        *,
        ttl_seconds: int | None = None,
        weights_access_token: str | None = None,
    ) -> str:
        return await self.copy_weights(
            path, destination_project_id, ttl_seconds=ttl_seconds, weights_access_token=weights_access_token
        )

    def _publish(self, tinker_path: str, method: str, name: str) -> APIFuture[None]:
        run, ckpt = parse_tinker_path(tinker_path)
        return self._call(method, f"/api/v1/training_runs/{_q(run)}/checkpoints/{_q(ckpt)}/publish", sdk_method=name)

    def publish_checkpoint_from_tinker_path(self, tinker_path: str) -> APIFuture[None]:
        return self._publish(tinker_path, "POST", "publish_checkpoint_from_tinker_path")

    async def publish_checkpoint_from_tinker_path_async(self, tinker_path: str) -> None:
        await self.publish_checkpoint_from_tinker_path(tinker_path)

    def unpublish_checkpoint_from_tinker_path(self, tinker_path: str) -> APIFuture[None]:
        return self._publish(tinker_path, "DELETE", "unpublish_checkpoint_from_tinker_path")

    async def unpublish_checkpoint_from_tinker_path_async(self, tinker_path: str) -> None:
        await self.unpublish_checkpoint_from_tinker_path(tinker_path)

    def set_checkpoint_ttl_from_tinker_path(self, tinker_path: str, ttl_seconds: int | None) -> APIFuture[None]:
        run, ckpt = parse_tinker_path(tinker_path)
        return self._call(
            "PUT",
            f"/api/v1/training_runs/{_q(run)}/checkpoints/{_q(ckpt)}/ttl",
            {"ttl_seconds": ttl_seconds},
            sdk_method="set_checkpoint_ttl_from_tinker_path",
        )

    async def set_checkpoint_ttl_from_tinker_path_async(self, tinker_path: str, ttl_seconds: int | None) -> None:
        await self.set_checkpoint_ttl_from_tinker_path(tinker_path, ttl_seconds)

    def list_user_checkpoints(self, limit: int = 100, offset: int = 0) -> APIFuture[CheckpointsListResponse]:
        return self._call(
            "GET",
            "/api/v1/checkpoints",
            query={"limit": limit, "offset": offset},
            parse=CheckpointsListResponse.from_json,
            sdk_method="list_user_checkpoints",
        )

    async def list_user_checkpoints_async(self, limit: int = 100, offset: int = 0) -> CheckpointsListResponse:
        return await self.list_user_checkpoints(limit, offset)

    # ---- sessions and samplers ----------------------------------------------------------------------

    def get_session(self, session_id: str, access_scope: str = "owned") -> APIFuture[GetSessionResponse]:
        return self._call(
            "GET",
            f"/api/v1/sessions/{_q(session_id)}",
            query={"access_scope": access_scope},
            parse=GetSessionResponse.from_json,
            sdk_method="get_session",
        )

    async def get_session_async(self, session_id: str, access_scope: str = "owned") -> GetSessionResponse:
        return await self.get_session(session_id, access_scope)

    def list_sessions(
        self, limit: int = 20, offset: int = 0, access_scope: str = "owned"
    ) -> APIFuture[ListSessionsResponse]:
        return self._call(
            "GET",
            "/api/v1/sessions",
            query={"limit": limit, "offset": offset, "access_scope": access_scope},
            parse=ListSessionsResponse.from_json,
            sdk_method="list_sessions",
        )

    async def list_sessions_async(
        self, limit: int = 20, offset: int = 0, access_scope: str = "owned"
    ) -> ListSessionsResponse:
        return await self.list_sessions(limit, offset, access_scope)

    def assign_session_project(self, session_id: str, project_id: str) -> APIFuture[None]:
        return self._call(
            "PUT",
            f"/api/v1/sessions/{_q(session_id)}/project",
            {"project_id": project_id},
            sdk_method="assign_session_project",
        )

    async def assign_session_project_async(self, session_id: str, project_id: str) -> None:
        await self.assign_session_project(session_id, project_id)

    def export_session_trace(self, session_id: str) -> APIFuture[str]:
        """Poll the session's Perfetto trace export until it is ready; resolves to its download URL."""
        holder = self.holder
        path = f"/api/v1/sessions/{_q(session_id)}/trace_export"

        async def go() -> str:
            while True:
                resp = await holder.execute_with_retries(lambda: holder.call_json("GET", path))
                status = resp.get("status") if isinstance(resp, dict) else None
                if status == "ready" and isinstance(resp.get("url"), str):
                    return str(resp["url"])
                if status == "failed":
                    raise RuntimeError(f"Trace export failed for session {session_id}: {resp.get('error')}")
                if status != "pending":
                    raise RuntimeError(f"Trace export for session {session_id}: unexpected reply {resp!r}")
                await asyncio.sleep(TRACE_EXPORT_POLL_S)

        return APIFuture(holder.run(go(), "RestClient.export_session_trace"))

    async def export_session_trace_async(self, session_id: str) -> str:
        return await self.export_session_trace(session_id)

    def whoami(self) -> APIFuture[WhoamiResponse]:
        """The calling principal, read from the claims of the identity JWT (no extra request when held)."""
        holder = self.holder

        async def go() -> WhoamiResponse:
            jwt = await holder.identity_jwt()
            if jwt is None:
                raise RuntimeError(
                    "whoami requires JWT auth, but the server has it disabled and the credential is a plain API key."
                )
            claims = jwt_claims(jwt)
            if "sub" not in claims or "org_id" not in claims:
                raise RuntimeError("whoami: the identity JWT carries no 'sub'/'org_id' claims")
            return WhoamiResponse(
                user_urn=str(claims["sub"]),
                org_urn=f"tml:organization:{claims['org_id']}",
                email=claims.get("email") or None,
            )

        return APIFuture(holder.run(go(), "RestClient.whoami"))

    def get_sampler(self, sampler_id: str) -> APIFuture[GetSamplerResponse]:
        return self._call(
            "GET",
            f"/api/v1/samplers/{_q(sampler_id)}",
            parse=GetSamplerResponse.from_json,
            sdk_method="get_sampler",
        )

    async def get_sampler_async(self, sampler_id: str) -> GetSamplerResponse:
        return await self.get_sampler(sampler_id)

    def get_billing_usage(self, starting_on: datetime | str, ending_before: datetime | str) -> APIFuture[Any]:
        return self._admin_client().get_billing_usage(starting_on, ending_before)

    async def get_billing_usage_async(self, starting_on: datetime | str, ending_before: datetime | str) -> Any:
        return await self._admin_client().get_billing_usage(starting_on, ending_before)

    def get_current_checkpoint_storage_usage(self, project_id: str | None = None) -> APIFuture[Any]:
        return self._admin_client().get_current_checkpoint_storage_usage(project_id)

    async def get_current_checkpoint_storage_usage_async(self, project_id: str | None = None) -> Any:
        return await self._admin_client().get_current_checkpoint_storage_usage(project_id)

    def search_sessions(self, request: SessionSearchRequest) -> APIFuture[SessionSearchResponse]:
        """One page of sessions matching ``request``; pass ``next_cursor`` back as ``cursor`` for the next."""
        if not isinstance(request, SessionSearchRequest):
            raise TypeError(f"search_sessions: expected a SessionSearchRequest, got {type(request).__name__}")
        return self._call(
            "POST",
            "/api/v1/sessions/search",
            request.to_json(),
            parse=SessionSearchResponse.from_json,
            sdk_method="search_sessions",
        )


__all__ = ["RestClient", "call", "parse_tinker_path", "rest_holder"]
