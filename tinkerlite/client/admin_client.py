"""``AdminClient`` (SDK 0.38): organisation-level reads — audit log, billing usage, checkpoint storage.

Built like ``RestClient`` (session-less, same credentials); each call needs an admin or billing role on
the real service. Arguments are checked here, before anything is sent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ..types.audit_log_response import AuditLogResponse
from ..types.billing_usage_response import BillingUsageResponse
from ..types.current_checkpoint_storage_usage_response import CurrentCheckpointStorageUsageResponse
from .api_future import APIFuture

if TYPE_CHECKING:
    from .holder import Holder

AuditEventType: TypeAlias = Literal["all", "checkpoints", "projects", "teams", "organizations"]
_AUDIT_EVENT_TYPES = ("all", "checkpoints", "projects", "teams", "organizations")


def _rfc3339(value: datetime | str, name: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name}: a timezone-aware datetime is required, got {value!r}")
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            raise ValueError(f"{name}: not an RFC 3339 timestamp: {value!r}") from None
        return value
    raise TypeError(f"{name}: expected a datetime or an RFC 3339 string, got {type(value).__name__}")


class AdminClient:
    """Audit log and billing reads for the caller's organisation."""

    def __init__(self, _holder: Holder | None = None, *, base_url: str | None = None, api_key: str | None = None):
        from .rest_client import rest_holder

        if _holder is not None and (base_url is not None or api_key is not None):
            raise ValueError("AdminClient: pass either _holder or base_url/api_key, not both")
        self.holder = _holder if _holder is not None else rest_holder(base_url, api_key)

    def get_telemetry(self) -> None:
        """tinkerlite collects no telemetry."""
        return None

    def _get(self, path: str, query: dict[str, Any], parse: Any, name: str) -> APIFuture[Any]:
        from .rest_client import call

        return call(self.holder, "GET", path, query=query, parse=parse, sdk_method=f"AdminClient.{name}")

    def get_audit_log(self, event_type: AuditEventType = "all", day: date | None = None) -> APIFuture[AuditLogResponse]:
        """The organisation's audit events for one UTC day (default: today)."""
        if event_type not in _AUDIT_EVENT_TYPES:
            raise ValueError(f"event_type must be one of {', '.join(_AUDIT_EVENT_TYPES)}; got {event_type!r}")
        query: dict[str, Any] = {"event_type": event_type}
        if day is not None:
            query["day"] = day.isoformat()
        return self._get("/api/v1/audit", query, AuditLogResponse.from_json, "get_audit_log")

    async def get_audit_log_async(
        self, event_type: AuditEventType = "all", day: date | None = None
    ) -> AuditLogResponse:
        return await self.get_audit_log(event_type, day)

    def get_billing_usage(
        self, starting_on: datetime | str, ending_before: datetime | str
    ) -> APIFuture[BillingUsageResponse]:
        """Hourly billing events in ``[starting_on, ending_before)``."""
        query = {
            "starting_on": _rfc3339(starting_on, "starting_on"),
            "ending_before": _rfc3339(ending_before, "ending_before"),
        }
        return self._get("/api/v1/billing/usage/events", query, BillingUsageResponse.from_json, "get_billing_usage")

    async def get_billing_usage_async(
        self, starting_on: datetime | str, ending_before: datetime | str
    ) -> BillingUsageResponse:
        return await self.get_billing_usage(starting_on, ending_before)

    def get_current_checkpoint_storage_usage(
        self, project_id: str | None = None
    ) -> APIFuture[CurrentCheckpointStorageUsageResponse]:
        """Checkpoint count, size and projected cost now (one project, or all)."""
        return self._get(
            "/api/v1/billing/usage/checkpoints/current",
            {"project_id": project_id},
            CurrentCheckpointStorageUsageResponse.from_json,
            "get_current_checkpoint_storage_usage",
        )

    async def get_current_checkpoint_storage_usage_async(
        self, project_id: str | None = None
    ) -> CurrentCheckpointStorageUsageResponse:
        return await self.get_current_checkpoint_storage_usage(project_id)
