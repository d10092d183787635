"""starlette.concurrency: running blocking code in the thread pool, on both anyio backends."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar

import anyio
import pytest

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool, run_until_first_complete

if sys.version_info < (3, 11):  # pragma: no cover - the builtin exists from 3.11
    from exceptiongroup import BaseExceptionGroup

pytestmark = pytest.mark.anyio

request_id: ContextVar[str] = ContextVar("request_id", default="unset")


async def test_run_in_threadpool_returns_the_result_computed_in_a_worker_thread() -> None:
    def work(a: int, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    total, thread_id = await run_in_threadpool(work, 1, 2)
    assert total == 3
    assert thread_id != threading.get_ident()


async def test_run_in_threadpool_passes_keyword_arguments() -> None:
    def greet(greeting: str, *, name: str, punctuation: str = ".") -> str:
        return f"{greeting}, {name}{punctuation}"

    assert await run_in_threadpool(greet, "Hello", name="world", punctuation="!") == "Hello, world!"
    assert await run_in_threadpool(greet, greeting="Hi", name="you") == "Hi, you."


async def test_run_in_threadpool_propagates_exceptions() -> None:
    def fail(message: str) -> None:
        raise LookupError(message)

    with pytest.raises(LookupError, match="missing"):
        await run_in_threadpool(fail, "missing")


async def test_run_in_threadpool_sees_context_variables() -> None:
    token = request_id.set("abc")
    try:
        assert await run_in_threadpool(request_id.get) == "abc"
    finally:
        request_id.reset(token)


async def test_run_in_threadpool_does_not_block_the_event_loop() -> None:
    # The blocking function waits for an event that only the event loop can set: if the call
    # blocked the loop this would deadlock (the fail_after turns that into a failure).
    started = threading.Event()
    released = threading.Event()

    def blocking() -> str:
        started.set()
        assert released.wait(5)
        return "done"

    results: list[str] = []

    async def run() -> None:
        results.append(await run_in_threadpool(blocking))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            while not started.is_set():
                await anyio.sleep(0.001)
            released.set()
    assert results == ["done"]


async def test_iterate_in_threadpool_yields_every_item() -> None:
    assert [item async for item in iterate_in_threadpool([1, 2, 3])] == [1, 2, 3]
    assert [item async for item in iterate_in_threadpool("ab")] == ["a", "b"]


async def test_iterate_in_threadpool_empty_iterable() -> None:
    assert [item async for item in iterate_in_threadpool(list[int]())] == []


async def test_iterate_in_threadpool_runs_each_step_in_a_worker_thread() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(3):
            seen.append(threading.get_ident())
            yield n

    assert [n async for n in iterate_in_threadpool(numbers())] == [0, 1, 2]
    assert len(seen) == 3
    assert loop_thread not in seen


async def test_iterate_in_threadpool_yields_none_items() -> None:
    assert [item async for item in iterate_in_threadpool([None, 0, ""])] == [None, 0, ""]


async def test_iterate_in_threadpool_propagates_errors_from_the_iterator() -> None:
    def broken() -> Iterator[str]:
        yield "first"
        raise RuntimeError("boom")

    received: list[str] = []
    with pytest.raises(RuntimeError, match="boom"):
        async for item in iterate_in_threadpool(broken()):
            received.append(item)
    assert received == ["first"]


async def test_iterate_in_threadpool_treats_stop_iteration_as_the_end() -> None:
    class Countdown:
        def __init__(self) -> None:
            self.remaining = 2

        def __iter__(self) -> Countdown:
            return self

        def __next__(self) -> int:
            if self.remaining == 0:
                raise StopIteration
            self.remaining -= 1
            return self.remaining

    assert [n async for n in iterate_in_threadpool(Countdown())] == [1, 0]


async def test_run_until_first_complete_cancels_the_others() -> None:
    events: list[str] = []

    async def fast(label: str) -> None:
        events.append(f"fast {label}")

    async def slow() -> None:
        try:
            await anyio.sleep(10)
        finally:
            events.append("slow cancelled")
        events.append("slow finished")

    with anyio.fail_after(5):
        with pytest.warns(DeprecationWarning, match="run_until_first_complete is deprecated"):
            await run_until_first_complete((slow, {}), (fast, {"label": "done"}))
    assert sorted(events) == ["fast done", "slow cancelled"]


async def test_run_until_first_complete_propagates_errors() -> None:
    async def fail() -> None:
        raise ValueError("broken")

    async def wait() -> None:
        await anyio.sleep(10)

    with pytest.warns(DeprecationWarning), pytest.raises(BaseExceptionGroup) as info:
        await run_until_first_complete((fail, {}), (wait, {}))
    assert info.group_contains(ValueError, match="broken")


@pytest.mark.anyio
async def test_iterate_in_threadpool_closes_a_generator_stopped_early() -> None:
    log: list[str] = []

    def numbers() -> Iterator[int]:
        try:
            yield from range(10)
        finally:
            log.append("closed")

    iterator = iterate_in_threadpool(numbers())
    assert await iterator.__anext__() == 0
    await iterator.aclose()  # type: ignore[attr-defined]  # an async generator at runtime
    assert log == ["closed"]


@pytest.mark.anyio
async def test_iterate_in_threadpool_stopped_early_without_close() -> None:
    iterator = iterate_in_threadpool([1, 2, 3])
    assert await iterator.__anext__() == 1
    await iterator.aclose()  # type: ignore[attr-defined]  # an async generator at runtime
    assert [item async for item in iterator] == []


@pytest.mark.anyio
async def test_iterate_in_threadpool_exhausted_generator_is_not_closed_again() -> None:
    log: list[str] = []

    def numbers() -> Iterator[int]:
        yield 1
        log.append("finished")

    assert [item async for item in iterate_in_threadpool(numbers())] == [1]
    assert log == ["finished"]
