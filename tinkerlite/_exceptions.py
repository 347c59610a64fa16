"""The official SDK's exception names, so code written against ``tinker`` catches the same classes.

Messages never contain credentials: requests are described by method and URL only, and headers are
not part of any exception's ``str``/``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from .types._lazy import dataclass

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BillingError",
    "ConflictError",
    "ExperimentalWarning",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestFailedError",
    "RetryableException",
    "TinkerError",
    "UnprocessableEntityError",
    "make_status_error",
]


@dataclass(frozen=True)
class RequestInfo:
    """What was asked: enough to say which call failed, nothing secret."""

    method: str
    url: str


@dataclass(frozen=True)
class ResponseInfo:
    """A received HTTP response (status, lower-cased headers, raw body)."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    request: RequestInfo | None = None

    def json(self) -> Any:
        return json.loads(self.content.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class TinkerError(Exception):
    """Base exception for all Tinker-related errors."""


class APIError(TinkerError):
    """Base class for errors tied to an HTTP request."""

    def __init__(self, message: str, request: RequestInfo | None, *, body: object | None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIResponseValidationError(APIError):
    """The server answered 2xx with a body that is not what the endpoint returns."""

    def __init__(self, response: ResponseInfo, body: object | None, message: str | None = None) -> None:
        super().__init__(message or "Data returned by API invalid for expected schema.", response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, message: str, response: ResponseInfo, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code = response.status_code


class APIConnectionError(APIError):
    """No HTTP response came back (refused, reset, DNS, TLS...)."""

    def __init__(self, request: RequestInfo | None, message: str = "Connection error.") -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """No response within the read timeout. ``message`` (tinkerlite's addition) names the URL and bound."""

    def __init__(self, request: RequestInfo | None, message: str = "Request timed out.") -> None:
        super().__init__(request=request, message=message)


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class BillingError(APIStatusError):
    status_code = 402


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    pass


class RequestFailedError(TinkerError):
    """A future completed in a failed state (``{"error", "category"}`` from ``retrieve_future``)."""

    def __init__(self, message: str, request_id: str, category: str) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.category = category

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.message, self.request_id, self.category))


class RetryableException(TinkerError):
    """The server lost the promise (HTTP 410): resubmitting the original request may succeed."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: BillingError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: ResponseInfo, *, hint: str | None = None) -> APIStatusError:
    """Build the SDK's ``Error code: <status> - <body>`` exception for a non-2xx response."""
    body: object
    try:
        body = response.json() if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = response.text
    shown = json.dumps(body) if body is not None and not isinstance(body, str) else (body or "")
    message = f"Error code: {response.status_code} - {shown}"
    if hint:
        message = f"{message}\n{hint}"
    cls = _STATUS_CLASSES.get(response.status_code)
    if cls is None:
        cls = InternalServerError if response.status_code >= 500 else APIStatusError
    return cls(message, response, body)


class ExperimentalWarning(FutureWarning):
    """Emitted by APIs that may change or go away in any release (shown by default, as a FutureWarning)."""
