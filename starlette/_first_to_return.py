"""Run a coroutine with a watcher alongside it, stopping both as soon as either returns.

`StreamingResponse` streams while watching for `http.disconnect` (on servers older than ASGI
2.4): whichever finishes first, the stream or the disconnect, stops the other.

Theory of operation. The general way is an anyio task group with both in it, the first to
return cancelling the group: correct on every backend, but a task group costs tens of
microseconds per response on asyncio. On asyncio the same is done with one plain task: `main`
runs in the current task inside an anyio `CancelScope`, the watcher runs in a child task. When
the watcher returns it cancels the scope (so `main` stops at its next checkpoint, and the scope
absorbs that cancellation); when `main` is done the watcher task is cancelled. An exception from
the watcher also stops `main` and is raised afterwards; one from `main` propagates once the
watcher has been stopped. Other backends (trio) take the task group way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio

from starlette._utils import collapse_excgroups


def _on_asyncio() -> bool:
    try:
        asyncio.current_task()
    except RuntimeError:  # no asyncio event loop in this thread: another backend (trio)
        return False
    return True


async def run_until_first_returns(main: Callable[[], Awaitable[None]], watcher: Callable[[], Awaitable[None]]) -> None:
    """Run `main()` and `watcher()` concurrently; when either returns, cancel the other."""
    if _on_asyncio():
        await _run_on_asyncio(main, watcher)
        return

    with collapse_excgroups():
        async with anyio.create_task_group() as task_group:

            async def run(func: Callable[[], Awaitable[None]]) -> None:
                await func()
                task_group.cancel_scope.cancel()

            task_group.start_soon(run, main)
            await run(watcher)


async def _run_on_asyncio(main: Callable[[], Awaitable[None]], watcher: Callable[[], Awaitable[None]]) -> None:
    watcher_errors: list[Exception] = []
    with anyio.CancelScope() as scope:

        async def watch() -> None:
            try:
                await watcher()
            except Exception as exc:
                watcher_errors.append(exc)
            scope.cancel()

        watch_task = asyncio.get_running_loop().create_task(watch())
        try:
            await main()
        finally:
            # A finished watcher has cancelled the scope: waiting now would raise that
            # cancellation here, in place of any exception `main` is raising.
            if not watch_task.done():
                watch_task.cancel()
                # Not `await watch_task`: its CancelledError is not ours to raise.
                await asyncio.wait((watch_task,))
    if watcher_errors:
        raise watcher_errors[0]
