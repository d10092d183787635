"""`run_until_first_returns`: the stream/disconnect race of `StreamingResponse`, on both
backends (asyncio takes its own path, trio the task group one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest

from starlette._first_to_return import run_until_first_returns

pytestmark = pytest.mark.anyio

Job = Callable[[], Awaitable[None]]


def blocked_forever(events: list[str], name: str) -> Job:
    async def run() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            events.append(f"{name} stopped")

    return run


def quick(events: list[str], name: str) -> Job:
    async def run() -> None:
        await anyio.sleep(0)
        events.append(f"{name} returned")

    return run


def failing(events: list[str], name: str) -> Job:
    async def run() -> None:
        await anyio.sleep(0)
        events.append(f"{name} failed")
        raise LookupError(name)

    return run


async def test_main_returning_first_stops_the_watcher() -> None:
    events: list[str] = []
    with anyio.fail_after(5):
        await run_until_first_returns(quick(events, "main"), blocked_forever(events, "watcher"))
    assert events == ["main returned", "watcher stopped"]


async def test_watcher_returning_first_stops_main() -> None:
    events: list[str] = []
    with anyio.fail_after(5):
        await run_until_first_returns(blocked_forever(events, "main"), quick(events, "watcher"))
    assert events == ["watcher returned", "main stopped"]


async def test_main_done_before_the_watcher_ever_ran() -> None:
    events: list[str] = []

    async def main() -> None:
        events.append("main returned")

    with anyio.fail_after(5):
        await run_until_first_returns(main, blocked_forever(events, "watcher"))
    assert events[0] == "main returned"
    assert events[1:] in ([], ["watcher stopped"])  # trio starts the watcher, asyncio may not


async def test_exception_from_main_propagates_and_stops_the_watcher() -> None:
    events: list[str] = []
    with anyio.fail_after(5), pytest.raises(LookupError, match="main"):
        await run_until_first_returns(failing(events, "main"), blocked_forever(events, "watcher"))
    assert events == ["main failed", "watcher stopped"]


async def test_exception_from_the_watcher_stops_main_then_propagates() -> None:
    events: list[str] = []
    with anyio.fail_after(5), pytest.raises(LookupError, match="watcher"):
        await run_until_first_returns(blocked_forever(events, "main"), failing(events, "watcher"))
    assert events == ["watcher failed", "main stopped"]


async def test_exception_from_main_while_being_stopped_is_not_lost() -> None:
    # The watcher returns, main is cancelled and fails during its cleanup: that error wins.
    events: list[str] = []

    async def main() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            events.append("main cleanup")
            raise KeyError("cleanup")

    with anyio.fail_after(5), pytest.raises(KeyError, match="cleanup"):
        await run_until_first_returns(main, quick(events, "watcher"))
    assert events == ["watcher returned", "main cleanup"]


async def test_outer_cancellation_stops_both() -> None:
    events: list[str] = []
    with anyio.move_on_after(0.05) as scope:
        await run_until_first_returns(blocked_forever(events, "main"), blocked_forever(events, "watcher"))
    assert scope.cancelled_caught
    assert sorted(events) == ["main stopped", "watcher stopped"]
