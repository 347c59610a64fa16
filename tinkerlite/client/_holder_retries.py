"""The holder layer's retries (§4.2) and the fail-fast bound, mixed into :class:`.holder.Holder`.

Apart from the holder's session, auth and HTTP code: this is the policy deciding whether and how long to
wait before the next attempt of a whole call, and the one error a call that gives up raises.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from .._exceptions import APIConnectionError, APIStatusError, RequestInfo
from .budget import BUDGET, RetryBudget
from .config import UNREACHABLE_TIMEOUT_ENV, BaseURL
from .retry import BillingPause, HolderRetry, budget_verdict, is_holder_retryable

T = TypeVar("T")

#: The SDK method a call runs under (sent as ``x-sdk-method``, and named in give-up errors).
_SDK_METHOD: contextvars.ContextVar[str | None] = contextvars.ContextVar("tinkerlite_sdk_method", default=None)


class _HolderRetries:
    """Retry state lives on the holder; these are the attributes and the one method this part reads."""

    base: BaseURL
    billing: BillingPause
    clock: Callable[[], float]
    wall: Callable[[], float]
    unreachable_timeout: float
    holder_budget_s: float
    _reachable: bool
    _first_attempt_at: float | None

    if TYPE_CHECKING:  # defined by Holder

        async def sleep(self, seconds: float) -> None: ...

    def _bounded(self, delay: float) -> float:
        """While the server has never answered, never sleep past the fail-fast bound."""
        if self._reachable or self._first_attempt_at is None:
            return delay
        remaining = self._first_attempt_at + self.unreachable_timeout - self.clock()
        return max(0.0, min(delay, remaining))

    def check_unreachable(self, error: APIConnectionError) -> None:
        """Raise a clear error once nothing has answered at the base URL for the fail-fast bound."""
        if self._reachable or self._first_attempt_at is None:
            return
        if getattr(error, "unreachable_after_s", None) is not None:
            raise error  # already the final verdict (raised by an inner retry layer): don't wrap it again
        elapsed = self.clock() - self._first_attempt_at
        if elapsed < self.unreachable_timeout - 0.05:  # an attempt clipped to the bound ends at it
            return
        source = {"base_url argument": "the base_url argument", "TINKER_BASE_URL": "$TINKER_BASE_URL"}.get(
            self.base.source, "the default (neither base_url= nor $TINKER_BASE_URL was set)"
        )
        verdict = APIConnectionError(
            RequestInfo("POST", self.base.url),
            f"Cannot reach the Tinker API at {self.base.url} (set by {source}): nothing answered for "
            f"{elapsed:.0f} s. Last error: {error.message}. Check that the server is running and listening "
            f"on that scheme/host/port (and path prefix), that {self.base.url!r} is the URL you meant, and "
            f"that no proxy or firewall blocks it. To keep retrying longer, pass unreachable_timeout=<s> "
            f"or set {UNREACHABLE_TIMEOUT_ENV}.",
        )
        verdict.unreachable_after_s = elapsed  # type: ignore[attr-defined]  # read by the CLI's one-line report
        verdict.base_url_source = source  # type: ignore[attr-defined]
        verdict.last_error = error.message  # type: ignore[attr-defined]
        raise verdict from None

    def budget_error(self, last: BaseException, budget: RetryBudget, path: str) -> BaseException:
        """The one flat error for a call whose retries used up the budget (what, since when, how to resume)."""
        what = _SDK_METHOD.get() or (f"POST {path}" if path else "a request")
        since = budget.first_failure_wall if budget.first_failure_wall is not None else self.wall()
        elapsed = self.wall() - since
        return budget_verdict(
            last, what=what, url=self.base.url, since_wall=since, elapsed_s=elapsed, budget_s=budget.budget_s
        )

    async def execute_with_retries(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Holder layer (§4.2): new HTTP call per attempt, ``min(2ⁿ, 30)`` s, 402 pause.

        The budget (5 minutes by default) bounds the whole call, the attempt in flight included: the
        HTTP layer below clips each attempt's timeout and its own retries to the same deadline.
        """
        outer = BUDGET.get()
        budget = outer or RetryBudget(self.clock() + self.holder_budget_s, self.holder_budget_s)
        token = BUDGET.set(budget) if outer is None else None
        retry = HolderRetry(start=budget.deadline - budget.budget_s, budget_s=budget.budget_s)
        try:
            while True:
                try:
                    return await fn()
                except APIStatusError as e:
                    if self.billing.should_pause(e.status_code, self.clock()):
                        budget.deadline += 5.0  # a billing pause is not an outage
                        await self.sleep(5.0)
                        continue
                    delay = self._holder_delay(retry, budget, e)
                except APIConnectionError as e:
                    self.check_unreachable(e)
                    delay = self._bounded(self._holder_delay(retry, budget, e))
                await self.sleep(delay)
        finally:
            if token is not None:
                BUDGET.reset(token)

    def _holder_delay(self, retry: HolderRetry, budget: RetryBudget, error: BaseException) -> float:
        """Seconds before the next holder attempt; raises ``error`` (or, out of budget, the verdict)."""
        if not is_holder_retryable(error):
            raise error
        budget.failed(self.wall())
        delay = retry.next_delay(error, self.clock())
        if delay is None or self.clock() >= budget.deadline:
            raise self.budget_error(error, budget, "") from None
        return min(delay, max(0.0, budget.deadline - self.clock()))
