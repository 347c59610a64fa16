"""``RestClient``: session-less REST calls (§2.6), every one through the holder retry layer."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from .api_future import APIFuture
from .holder import Holder
from .transport import Transport


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


class RestClient:
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        default_headers_overrides: Mapping[str, str] | None = None,
        unreachable_timeout: float | None = None,
        transport: Transport | None = None,
        _holder_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.holder = Holder(
            base_url=base_url,
            api_key=api_key,
            default_headers_overrides=default_headers_overrides,
            skip_session=True,
            unreachable_timeout=unreachable_timeout,
            transport=transport,
            **dict(_holder_options or {}),
        )

    def close(self) -> None:
        self.holder.shutdown()

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, Any] | None = None,
        parse: Callable[[Any], Any] | None = None,
        sdk_method: str,
    ) -> APIFuture[Any]:
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        holder = self.holder

        async def go() -> Any:
            raw = await holder.execute_with_retries(lambda: holder.call_json(method, path, body))
            return parse(raw) if parse is not None else None

        return APIFuture(holder.run(go(), f"RestClient.{sdk_method}"))

    @staticmethod
    def _t(name: str) -> Callable[[Any], Any]:
        def parse(raw: Any) -> Any:
            from .. import types

            return getattr(types, name).from_json(raw)

        return parse

    # ---- server -------------------------------------------------------------------------------------

    def get_server_capabilities(self) -> APIFuture[Any]:
        return self._call(
            "GET",
            "/api/v1/get_server_capabilities",
            parse=self._t("GetServerCapabilitiesResponse"),
            sdk_method="get_server_capabilities",
        )

    async def get_server_capabilities_async(self) -> Any:
        return await self.get_server_capabilities()

    def healthz(self) -> APIFuture[Any]:
        return self._call("GET", "/api/v1/healthz", parse=lambda r: r, sdk_method="healthz")

    # ---- training runs ------------------------------------------------------------------------------

    def get_training_run(self, training_run_id: str, access_scope: str = "owned") -> APIFuture[Any]:
        return self._call(
            "GET",
            f"/api/v1/training_runs/{_q(training_run_id)}",
            query={"access_scope": access_scope},
            parse=self._t("TrainingRun"),
            sdk_method="get_training_run",
        )

    async def get_training_run_async(self, training_run_id: str, access_scope: str = "owned") -> Any:
        return await self.get_training_run(training_run_id, access_scope)

    def get_training_run_by_tinker_path(self, tinker_path: str, access_scope: str = "owned") -> APIFuture[Any]:
        return self.get_training_run(parse_tinker_path(tinker_path)[0], access_scope)

    def list_training_runs(
        self, limit: int = 20, offset: int = 0, access_scope: str = "owned", project_id: str | None = None
    ) -> APIFuture[Any]:
        return self._call(
            "GET",
            "/api/v1/training_runs",
            query={"limit": limit, "offset": offset, "access_scope": access_scope, "project_id": project_id},
            parse=self._t("TrainingRunsResponse"),
            sdk_method="list_training_runs",
        )

    async def list_training_runs_async(self, limit: int = 20, offset: int = 0, **kw: Any) -> Any:
        return await self.list_training_runs(limit, offset, **kw)

    def get_weights_info_by_tinker_path(self, tinker_path: str) -> APIFuture[Any]:
        return self._call(
            "POST",
            "/api/v1/weights_info",
            {"tinker_path": tinker_path},
            parse=self._t("WeightsInfoResponse"),
            sdk_method="get_weights_info_by_tinker_path",
        )

    # ---- checkpoints --------------------------------------------------------------------------------

    def list_checkpoints(self, training_run_id: str) -> APIFuture[Any]:
        return self._call(
            "GET",
            f"/api/v1/training_runs/{_q(training_run_id)}/checkpoints",
            parse=self._t("CheckpointsListResponse"),
            sdk_method="list_checkpoints",
        )

    async def list_checkpoints_async(self, training_run_id: str) -> Any:
        return await self.list_checkpoints(training_run_id)

    def list_user_checkpoints(self, limit: int = 100, offset: int = 0) -> APIFuture[Any]:
        return self._call(
            "GET",
            "/api/v1/checkpoints",
            query={"limit": limit, "offset": offset},
            parse=self._t("CheckpointsListResponse"),
            sdk_method="list_user_checkpoints",
        )

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

    def _publish(self, tinker_path: str, method: str, name: str) -> APIFuture[None]:
        run, ckpt = parse_tinker_path(tinker_path)
        return self._call(method, f"/api/v1/training_runs/{_q(run)}/checkpoints/{_q(ckpt)}/publish", sdk_method=name)

    def publish_checkpoint_from_tinker_path(self, tinker_path: str) -> APIFuture[None]:
        return self._publish(tinker_path, "POST", "publish_checkpoint_from_tinker_path")

    def unpublish_checkpoint_from_tinker_path(self, tinker_path: str) -> APIFuture[None]:
        return self._publish(tinker_path, "DELETE", "unpublish_checkpoint_from_tinker_path")

    def set_checkpoint_ttl_from_tinker_path(self, tinker_path: str, ttl_seconds: int | None) -> APIFuture[None]:
        run, ckpt = parse_tinker_path(tinker_path)
        return self._call(
            "PUT",
            f"/api/v1/training_runs/{_q(run)}/checkpoints/{_q(ckpt)}/ttl",
            {"ttl_seconds": ttl_seconds},
            sdk_method="set_checkpoint_ttl_from_tinker_path",
        )

    # ---- sessions and samplers ----------------------------------------------------------------------

    def get_session(self, session_id: str, access_scope: str = "owned") -> APIFuture[Any]:
        return self._call(
            "GET",
            f"/api/v1/sessions/{_q(session_id)}",
            query={"access_scope": access_scope},
            parse=self._t("GetSessionResponse"),
            sdk_method="get_session",
        )

    def list_sessions(self, limit: int = 20, offset: int = 0, access_scope: str = "owned") -> APIFuture[Any]:
        return self._call(
            "GET",
            "/api/v1/sessions",
            query={"limit": limit, "offset": offset, "access_scope": access_scope},
            parse=self._t("ListSessionsResponse"),
            sdk_method="list_sessions",
        )

    def assign_session_project(self, session_id: str, project_id: str) -> APIFuture[None]:
        return self._call(
            "PUT",
            f"/api/v1/sessions/{_q(session_id)}/project",
            {"project_id": project_id},
            sdk_method="assign_session_project",
        )

    def get_sampler(self, sampler_id: str) -> APIFuture[Any]:
        return self._call(
            "GET",
            f"/api/v1/samplers/{_q(sampler_id)}",
            parse=self._t("GetSamplerResponse"),
            sdk_method="get_sampler",
        )
