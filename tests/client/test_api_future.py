from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time

import pytest

from tinkerlite.client.api_future import APIFuture


def later(value: object, delay: float = 0.05, error: BaseException | None = None) -> APIFuture[object]:
    f: concurrent.futures.Future[object] = concurrent.futures.Future()

    def finish() -> None:
        time.sleep(delay)
        if error is not None:
            f.set_exception(error)
        else:
            f.set_result(value)

    threading.Thread(target=finish, daemon=True).start()
    return APIFuture(f)


def test_result_blocks_and_times_out() -> None:
    assert later(3).result(timeout=5) == 3
    with pytest.raises(TimeoutError):
        later(3, delay=1.0).result(timeout=0.01)


def test_awaitable_from_any_loop_and_composable() -> None:
    async def main() -> tuple[object, object, list[object]]:
        a = await later(1)
        b = await later(2).map(lambda v: v * 10)  # type: ignore[operator]
        c = await APIFuture.gather([later(i, 0.01 * (3 - i)) for i in range(3)])
        return a, b, c

    assert asyncio.run(main()) == (1, 20, [0, 1, 2])


def test_errors_propagate_through_map_and_gather() -> None:
    with pytest.raises(KeyError):
        later(None, error=KeyError("x")).map(lambda v: v).result(timeout=5)
    with pytest.raises(ValueError):
        APIFuture.gather([later(1), later(None, error=ValueError("y"), delay=0.01)]).result(timeout=5)
    assert APIFuture.gather([]).result() == []


def test_async_wait_timeout_does_not_cancel_the_request() -> None:
    fut = later(5, delay=0.3)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await fut.result_async(timeout=0.01)

    asyncio.run(main())
    assert fut.result(timeout=5) == 5
