"""Retry and backoff decisions (§4), as pure functions and small state objects.

Nothing here sleeps or reads a clock on its own: callers pass ``now`` and a ``rng`` so the rules can
be tested row by row without real time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from .._exceptions import APIConnectionError, APIStatusError, APITimeoutError, RequestInfo
from ..types._lazy import dataclass

HTTP_MAX_RETRIES = 10
HTTP_INITIAL_DELAY = 0.5
HTTP_MAX_DELAY = 10.0
HOLDER_BUDGET_S = 300.0
HOLDER_MAX_DELAY = 30.0
POLL_MAX_BACKOFF = 30.0
#: retrieve_future after a 5xx: ``min(0.5·2ⁿ, 30)`` s (the SDK re-polls at once: a hot loop on 503 forever).
POLL_5XX_INITIAL_DELAY = 0.5
#: A try-again/408 answered faster than this was not long-polled: wait ``min(0.05·2ⁿ, 1)`` s before the next
#: (a server that holds each poll even 0.2 s is not hammered, and is polled back to back).
POLL_FAST_ANSWER_S = 0.2
POLL_FAST_INITIAL_DELAY = 0.05
POLL_FAST_MAX_DELAY = 1.0
RETRY_BUDGET_ENV = "TINKERLITE_RETRY_BUDGET"
BILLING_SLEEP_S = 5.0
BILLING_RESET_S = 300.0
SAMPLE_BACKOFF_SMALL_S = 1.0
SAMPLE_BACKOFF_LARGE_S = 5.0
SAMPLE_BACKOFF_SMALL_PROMPT_BYTES = 128 * 1024

RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status < 600


def http_should_retry(status: int, headers: Mapping[str, str]) -> bool:
    """HTTP layer: ``x-should-retry`` overrides the status rule (408/409/429/5xx)."""
    flag = _get(headers, "x-should-retry")
    if flag == "true":
        return True
    if flag == "false":
        return False
    return is_retryable_status(status)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``Retry-After-Ms`` or ``Retry-After`` (seconds or HTTP date), else None."""
    ms = _get(headers, "retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    raw = _get(headers, "retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    import email.utils  # only for an HTTP-date Retry-After: email is ~1.5 ms of the first import

    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    return float(email.utils.mktime_tz(parsed) - now)


def http_retry_delay(retries_done: int, headers: Mapping[str, str], *, now: float, rng: Callable[[], float]) -> float:
    """Honour a server delay in (0, 60] s; otherwise ``min(0.5·2ⁿ, 10)·(1 − 0.25·U)``."""
    after = parse_retry_after(headers, now)
    if after is not None and 0 < after <= 60:
        return after
    n = min(retries_done, 1000)
    return max(0.0, min(HTTP_INITIAL_DELAY * 2.0**n, HTTP_MAX_DELAY) * (1 - 0.25 * rng()))


def resolve_retry_budget(value: float | None, env: Mapping[str, str] | None = None) -> float:
    """The retry budget (s): argument, then ``$TINKERLITE_RETRY_BUDGET``, then 300 s (the SDK's)."""
    env = os.environ if env is None else env
    if value is not None:
        return float(value)
    raw = env.get(RETRY_BUDGET_ENV, "")
    if raw:
        try:
            budget = float(raw)
        except ValueError:
            budget = -1.0
        if budget <= 0:
            from .._exceptions import TinkerError

            raise TinkerError(f"{RETRY_BUDGET_ENV}={raw!r} is not a positive number of seconds")
        return budget
    return HOLDER_BUDGET_S


def is_holder_retryable(exc: BaseException) -> bool:
    """Holder layer retries connection errors/timeouts and 408/409/429/5xx (never a spent budget's verdict)."""
    if getattr(exc, "retry_budget_s", None) is not None or getattr(exc, "unreachable_after_s", None) is not None:
        return False  # retries already ran for the whole budget (or the server never answered)
    if isinstance(exc, (APIConnectionError, TimeoutError)):
        return True
    if isinstance(exc, APIStatusError):
        if _get(exc.response.headers, "x-should-retry") == "false":
            return False  # the server says retrying cannot help (a missing extra, a bad request)
        return is_retryable_status(exc.status_code)
    return False


@dataclass
class HolderRetry:
    """``execute_with_retries``: ``min(2ⁿ, 30)`` s, never past the budget (5 min by default)."""

    start: float
    budget_s: float = HOLDER_BUDGET_S
    attempts: int = 0

    def next_delay(self, exc: BaseException, now: float) -> float | None:
        """Seconds to sleep before the next attempt, or None to give up and raise ``exc``."""
        elapsed = now - self.start
        if not is_holder_retryable(exc) or elapsed >= self.budget_s:
            return None
        delay = min(2.0**self.attempts, HOLDER_MAX_DELAY)
        self.attempts += 1
        return max(0.0, min(delay, self.start + self.budget_s - now))


class BillingPause:
    """Holder-wide 402 handling (§4.3): pause silently until ``max_pause_s`` of continuous 402s.

    A 402 more than 5 minutes after the last one starts a new incident.
    """

    def __init__(self, max_pause_s: float = 3600.0) -> None:
        self.max_pause_s = max_pause_s
        self._first: float | None = None
        self._last: float | None = None

    def should_pause(self, status: int, now: float) -> bool:
        if status != 402:
            return False
        if self._last is not None and now - self._last > BILLING_RESET_S:
            self._first = None
        if self._first is not None and now - self._first > self.max_pause_s:
            return False
        if self._first is None:
            self._first = now
        self._last = now
        return True


def poll_backoff(consecutive_transport_errors: int) -> float:
    """retrieve_future after 429/connection error/timeout: ``min(2ⁿ, 30)``."""
    return min(2.0 ** min(consecutive_transport_errors, 64), POLL_MAX_BACKOFF)


def poll_5xx_backoff(consecutive_server_errors: int) -> float:
    """retrieve_future after a 5xx: ``min(0.5·2ⁿ, 30)``."""
    return min(POLL_5XX_INITIAL_DELAY * 2.0 ** min(consecutive_server_errors, 64), POLL_MAX_BACKOFF)


def poll_fast_answer_delay(consecutive_fast_answers: int) -> float:
    """Pause before re-polling after a try-again that came back at once: ``min(0.05·2ⁿ, 1)``."""
    return min(POLL_FAST_INITIAL_DELAY * 2.0 ** min(consecutive_fast_answers, 64), POLL_FAST_MAX_DELAY)


def brief_error(error: BaseException) -> str:
    """One line for an error inside another message: ``HTTP 503`` or the first line of the message."""
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    text = str(getattr(error, "message", "") or error) or type(error).__name__
    return " ".join(text.splitlines()[0].split()) if text.strip() else type(error).__name__


def budget_verdict(
    last: BaseException, *, what: str, url: str, since_wall: float, elapsed_s: float, budget_s: float
) -> BaseException:
    """The one flat error once retries have used the budget: what failed, since when, how to resume.

    Keeps the class of the last error (an ``InternalServerError`` stays one, a timeout an
    ``APITimeoutError``), so ``except`` clauses written for the SDK still match.
    """
    if getattr(last, "retry_budget_s", None) is not None or getattr(last, "unreachable_after_s", None) is not None:
        return last  # already the verdict of an inner layer: never wrap it again
    since = time.strftime("%H:%M:%S UTC", time.gmtime(since_wall))
    message = (
        f"{what}: the Tinker API at {url} has given no usable answer since {since} ({elapsed_s:.0f} s, past the "
        f"{budget_s:.0f} s retry budget; last error: {brief_error(last)}). Check that the server is up, then resume "
        f"from the last saved checkpoint (the cookbook loops: rerun with the same log_path and "
        f"behavior_if_log_dir_exists=resume); to retry longer set {RETRY_BUDGET_ENV}=<seconds>."
    )
    verdict: BaseException
    if isinstance(last, APIStatusError):
        verdict = type(last)(message, last.response, last.body)
    elif isinstance(last, APIConnectionError):
        verdict = type(last)(last.request or RequestInfo("POST", url), message)
    elif isinstance(last, TimeoutError):
        verdict = APITimeoutError(RequestInfo("POST", url), message)
    else:
        return last
    # Read by callers and the CLI's one-line report.
    for name, value in (("retry_budget_s", budget_s), ("failing_since", since_wall), ("last_error", brief_error(last))):
        setattr(verdict, name, value)
    return verdict


def sample_retry_delay(attempt: int, rng: Callable[[], float], base: float = 0.5, cap: float = 10.0) -> float:
    """Sampling ``RetryHandler``: ``min(base·2ⁿ, cap)`` with ±25 % jitter, clipped to ``cap``."""
    delay = min(base * 2.0 ** min(attempt, 64), cap)
    return max(0.0, min(delay + delay * 0.25 * (2 * rng() - 1), cap))


def sample_backpressure_s(estimated_prompt_bytes: int) -> float:
    """Holder-wide pause after a 429 on ``asample``: 1 s for small prompts, 5 s otherwise."""
    if estimated_prompt_bytes <= SAMPLE_BACKOFF_SMALL_PROMPT_BYTES:
        return SAMPLE_BACKOFF_SMALL_S
    return SAMPLE_BACKOFF_LARGE_S


def is_sample_retryable(exc: BaseException) -> bool:
    """What the sampling ``RetryHandler`` retries with a fresh submission (new seq id)."""
    from .._exceptions import RetryableException

    return isinstance(exc, RetryableException) or is_holder_retryable(exc)


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None
