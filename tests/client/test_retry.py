"""§4: HTTP-layer and holder-layer retry rules, billing, sampling back-pressure, error classes."""

from __future__ import annotations

import email.utils

import pytest

from tinkerlite._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BillingError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseInfo,
    RetryableException,
    UnprocessableEntityError,
    make_status_error,
)
from tinkerlite.client import retry


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 599])
def test_retried_statuses(status: int) -> None:
    assert retry.http_should_retry(status, {})


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 410, 422])
def test_not_retried_statuses(status: int) -> None:
    assert not retry.http_should_retry(status, {})


def test_x_should_retry_overrides_status() -> None:
    assert retry.http_should_retry(400, {"x-should-retry": "true"})
    assert not retry.http_should_retry(503, {"X-Should-Retry": "false"})


def test_retry_after_forms() -> None:
    now = 1_000_000.0
    assert retry.parse_retry_after({"retry-after-ms": "1500"}, now) == 1.5
    assert retry.parse_retry_after({"retry-after": "7"}, now) == 7.0
    assert retry.parse_retry_after({"retry-after": "2.5"}, now) == 2.5
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert retry.parse_retry_after({"Retry-After": date}, now) == pytest.approx(12, abs=1)
    assert retry.parse_retry_after({"retry-after": "soon"}, now) is None
    assert retry.parse_retry_after({}, now) is None


def test_retry_after_honoured_only_within_0_60() -> None:
    rng = lambda: 0.0  # noqa: E731
    assert retry.http_retry_delay(3, {"retry-after": "20"}, now=0, rng=rng) == 20
    assert retry.http_retry_delay(0, {"retry-after": "61"}, now=0, rng=rng) == 0.5
    assert retry.http_retry_delay(0, {"retry-after": "0"}, now=0, rng=rng) == 0.5
    assert retry.http_retry_delay(1, {"retry-after": "-3"}, now=0, rng=rng) == 1.0


def test_http_backoff_formula_and_jitter() -> None:
    no_jitter = [retry.http_retry_delay(n, {}, now=0, rng=lambda: 0.0) for n in range(7)]
    assert no_jitter == [0.5, 1, 2, 4, 8, 10, 10]
    full_jitter = retry.http_retry_delay(2, {}, now=0, rng=lambda: 1.0)
    assert full_jitter == pytest.approx(2 * 0.75)
    assert retry.HTTP_MAX_RETRIES == 10


def test_holder_retry_schedule_and_budget() -> None:
    h = retry.HolderRetry(start=0.0)
    err = InternalServerError("x", ResponseInfo(503), None)
    delays = [h.next_delay(err, now=0.0) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    # never sleeps past the 5-minute budget, gives up at it
    assert h.next_delay(err, now=290.0) == 10.0
    assert h.next_delay(err, now=300.0) is None


@pytest.mark.parametrize(
    "exc",
    [
        APIConnectionError(None),
        APITimeoutError(None),
        TimeoutError(),
        RateLimitError("x", ResponseInfo(429), None),
        ConflictError("x", ResponseInfo(409), None),
        APIStatusError("x", ResponseInfo(408), None),
        InternalServerError("x", ResponseInfo(500), None),
    ],
)
def test_holder_retryable(exc: BaseException) -> None:
    assert retry.is_holder_retryable(exc)
    assert retry.HolderRetry(start=0).next_delay(exc, 0) == 1


@pytest.mark.parametrize(
    "exc",
    [
        BadRequestError("x", ResponseInfo(400), None),
        AuthenticationError("x", ResponseInfo(401), None),
        NotFoundError("x", ResponseInfo(404), None),
        ValueError("bug"),
    ],
)
def test_holder_not_retryable(exc: BaseException) -> None:
    assert not retry.is_holder_retryable(exc)
    assert retry.HolderRetry(start=0).next_delay(exc, 0) is None


def test_poll_backoff() -> None:
    assert [retry.poll_backoff(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert retry.poll_backoff(10_000) == 30


def test_sampling_retry_delay_with_symmetric_jitter() -> None:
    assert retry.sample_retry_delay(0, lambda: 0.5) == 0.5
    assert retry.sample_retry_delay(3, lambda: 0.5) == 4.0
    assert retry.sample_retry_delay(10, lambda: 0.5) == 10.0
    assert retry.sample_retry_delay(1, lambda: 0.0) == pytest.approx(0.75)
    assert retry.sample_retry_delay(1, lambda: 1.0) == pytest.approx(1.25)
    assert retry.sample_retry_delay(10, lambda: 1.0) == 10.0  # clipped to the max
    assert retry.is_sample_retryable(RetryableException("gone"))
    assert not retry.is_sample_retryable(BadRequestError("x", ResponseInfo(400), None))


def test_sample_backpressure_durations() -> None:
    assert retry.sample_backpressure_s(100) == 1.0
    assert retry.sample_backpressure_s(128 * 1024) == 1.0
    assert retry.sample_backpressure_s(128 * 1024 + 1) == 5.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, BillingError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_status_error_classes_and_message(status: int, cls: type) -> None:
    err = make_status_error(ResponseInfo(status, {}, b'{"detail": "boom"}'))
    assert type(err) is cls
    assert err.status_code == status
    assert str(err) == f'Error code: {status} - {{"detail": "boom"}}'
    assert err.body == {"detail": "boom"}
