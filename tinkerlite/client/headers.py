"""Request headers, built the way the official SDK builds them (§1.3), and redaction for logs."""

from __future__ import annotations

from collections.abc import Mapping

from .config import SDK_VERSION

TINKERLITE_VERSION = "0.1.0"

SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "cf-access-client-secret", "x-tinker-weights-access-token", "cookie"}
)

JSON = "application/json"
PROTOBUF = "application/x-protobuf"


def platform_headers() -> dict[str, str]:
    import platform  # here, not at import: platform (and uuid) cost ~2 ms of the first import

    return {
        "X-Stainless-Lang": "python",
        "X-Stainless-Package-Version": SDK_VERSION,
        "X-Stainless-OS": platform.system() or "Unknown",
        "X-Stainless-Arch": platform.machine() or "unknown",
        "X-Stainless-Runtime": platform.python_implementation(),
        "X-Stainless-Runtime-Version": platform.python_version(),
        "X-Stainless-Async": "async:asyncio",
    }


def default_headers(env: Mapping[str, str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers on every request except the credential, which is added per request."""
    headers = {
        "Accept": JSON,
        "Content-Type": JSON,
        "User-Agent": f"AsyncTinker/Python {SDK_VERSION} tinkerlite/{TINKERLITE_VERSION}",
        "x-sdk-version": SDK_VERSION,
        **platform_headers(),
    }
    if client_id := env.get("CLOUDFLARE_ACCESS_CLIENT_ID"):
        headers["CF-Access-Client-Id"] = client_id
    if client_secret := env.get("CLOUDFLARE_ACCESS_CLIENT_SECRET"):
        headers["CF-Access-Client-Secret"] = client_secret
    headers.update(overrides or {})
    return headers


def new_idempotency_key() -> str:
    """One per logical HTTP call, reused across that call's HTTP-layer retries."""
    import uuid

    return f"stainless-python-retry-{uuid.uuid4()}"


def call_headers(
    *,
    method: str,
    idempotency_key: str,
    retry_count: int,
    read_timeout: float,
    sdk_method: str | None = None,
) -> dict[str, str]:
    """Per-attempt headers: idempotency key (non-GET), retry count, read timeout, SDK method."""
    headers = {"x-stainless-retry-count": str(retry_count), "x-stainless-read-timeout": _fmt(read_timeout)}
    if method.upper() != "GET":
        headers["X-Idempotency-Key"] = idempotency_key
    if sdk_method:
        headers["x-sdk-method"] = sdk_method
    return headers


def retrieve_future_headers(
    request_type: str, iteration: int, want_proto: bool, roundtrip_s: float | None
) -> dict[str, str]:
    """§3.2: iteration/type headers, protobuf ``Accept`` only for the two protobuf result types."""
    headers = {
        "X-Tinker-Request-Iteration": str(iteration),
        "X-Tinker-Request-Type": request_type,
        "X-Stainless-Raw-Response": "raw",
    }
    if want_proto:
        headers["Accept"] = PROTOBUF
    if iteration == 0 and roundtrip_s is not None:
        headers["X-Tinker-Create-Promise-Roundtrip-Time"] = str(roundtrip_s)
    return headers


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy safe to log: secret header values replaced by ``<redacted>``."""
    return {k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def _fmt(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
