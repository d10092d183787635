"""Bridges between async code and blocking code: run a sync callable or iterate a sync iterator
in anyio's worker thread pool without blocking the event loop."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_until_first_complete(*args: tuple[Callable[..., Awaitable[object]], dict[str, Any]]) -> None:
    """Run each `func(**kwargs)` concurrently and cancel the others as soon as one returns.

    Deprecated: use an `anyio` task group directly.
    """
    warnings.warn(
        "run_until_first_complete is deprecated and will be removed in a future version.",
        DeprecationWarning,
        stacklevel=2,
    )

    async with anyio.create_task_group() as task_group:

        async def run(func: Callable[[], Awaitable[object]]) -> None:
            await func()
            task_group.cancel_scope.cancel()

        for func, kwargs in args:
            task_group.start_soon(run, functools.partial(func, **kwargs))


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call the blocking `func(*args, **kwargs)` in a worker thread and return its result.

    Context variables are copied into the thread, as `anyio.to_thread.run_sync` does.
    """
    if kwargs:
        # run_sync only forwards positional arguments.
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    return await anyio.to_thread.run_sync(func, *args)


class _Exhausted:
    """Sentinel returned by `next()` in the worker thread when the iterator is done.

    A `StopIteration` must not cross into the event loop: raised out of a coroutine it turns
    into a `RuntimeError` (and confuses futures), so exhaustion is signalled by value instead.
    """


_EXHAUSTED = _Exhausted()


async def iterate_in_threadpool(iterator: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterable asynchronously: each `next()` runs in a worker thread.

    Stopped early (closed, or cancelled), it closes the iterator if that has a `close()` (a
    generator's `finally` blocks then run at once, in a worker thread, not at garbage collection).
    """
    as_iterator = iter(iterator)
    exhausted = False
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, as_iterator, _EXHAUSTED)
            if isinstance(item, _Exhausted):
                exhausted = True
                break
            yield item
    finally:
        close = None if exhausted else getattr(as_iterator, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)
