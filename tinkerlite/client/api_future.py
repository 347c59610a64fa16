"""``APIFuture``: a result that is still on its way; block with ``.result()`` or ``await`` it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")

_LOOP_THREAD_NAME = "tinkerlite-loop"


class APIFuture(Generic[T]):
    """Thread-safe and awaitable from any event loop; awaiting never blocks the loop."""

    def __init__(self, future: concurrent.futures.Future[T]) -> None:
        self._future = future

    @classmethod
    def completed(cls, value: T) -> APIFuture[T]:
        f: concurrent.futures.Future[T] = concurrent.futures.Future()
        f.set_result(value)
        return cls(f)

    def result(self, timeout: float | None = None) -> T:
        """Block until done; ``TimeoutError`` after ``timeout`` seconds (the request keeps running)."""
        if threading.current_thread().name == _LOOP_THREAD_NAME and not self._future.done():
            raise RuntimeError("APIFuture.result() would deadlock on the client's own event loop thread")
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"result not ready after {timeout} s") from None

    async def result_async(self, timeout: float | None = None) -> T:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(self._future)), timeout)

    def __await__(self) -> Generator[Any, None, T]:
        return self.result_async().__await__()

    async def coroutine(self) -> T:
        """This future as a coroutine, for APIs that want one rather than an awaitable
        (``asyncio.create_task(client.sample(...).coroutine())``)."""
        return await self

    def future(self) -> concurrent.futures.Future[T]:
        return self._future

    def done(self) -> bool:
        return self._future.done()

    def cancel(self) -> bool:
        return self._future.cancel()

    def add_done_callback(self, fn: Callable[[APIFuture[T]], None]) -> None:
        self._future.add_done_callback(lambda _f: fn(self))

    def map(self, fn: Callable[[T], U]) -> APIFuture[U]:
        """A future of ``fn(result)``; errors pass through."""
        out: concurrent.futures.Future[U] = concurrent.futures.Future()

        def done(f: concurrent.futures.Future[T]) -> None:
            if f.cancelled():
                out.cancel()
                return
            exc = f.exception()
            if exc is not None:
                out.set_exception(exc)
                return
            try:
                out.set_result(fn(f.result()))
            except BaseException as e:
                out.set_exception(e)

        self._future.add_done_callback(done)
        return APIFuture(out)

    @staticmethod
    def gather(futures: Sequence[APIFuture[Any]]) -> APIFuture[list[Any]]:
        """All results in order, or the first error."""
        out: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        remaining = [len(futures)]
        lock = threading.Lock()
        if not futures:
            out.set_result([])
            return APIFuture(out)

        def done(_f: concurrent.futures.Future[Any]) -> None:
            with lock:
                remaining[0] -= 1
                if out.done():
                    return
                if _f.cancelled():
                    out.cancel()
                    return
                exc = _f.exception()
                if exc is not None:
                    out.set_exception(exc)
                elif remaining[0] == 0:
                    out.set_result([f.future().result() for f in futures])

        for f in futures:
            f.future().add_done_callback(done)
        return APIFuture(out)


AwaitableConcurrentFuture = APIFuture


class ClientFuture(APIFuture[T]):
    """A future of a client that also forwards attribute access to the client once resolved.

    The official SDK (0.38) returns such a wrapper from ``create_*_training_client*``,
    ``create_sampling_client`` and ``save_weights_and_get_sampling_client`` so code written when those
    returned the client itself keeps working; that use is deprecated there and here. ``.result()`` /
    ``await`` is the way.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        import warnings

        warnings.warn(  # FutureWarning, as the SDK: shown to end users by default
            f"using the future of a client as the client is deprecated; "
            f"call .result() (or await it) first (accessed {name!r})",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(self.result(), name)
