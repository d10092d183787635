"""The ASGI lifespan protocol as `Router` speaks it, and the adapters that turn the deprecated
ways of declaring startup/shutdown code into a lifespan context."""

from __future__ import annotations

import contextlib
import functools
import inspect
import traceback
import warnings
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar

from starlette._utils import is_async_callable
from starlette.types import Lifespan, Receive, Scope, Send

_T = TypeVar("_T")

_ASYNC_GENERATOR_DEPRECATED = (
    "async generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead"
)
_GENERATOR_DEPRECATED = (
    "generator function lifespans are deprecated, use an @contextlib.asynccontextmanager function instead"
)
STATE_NOT_SUPPORTED = 'The server does not support "state" in the lifespan scope.'


async def run_handlers(handlers: Sequence[Callable[[], Any]]) -> None:
    """Call startup or shutdown handlers in order, awaiting the async ones."""
    for handler in handlers:
        if is_async_callable(handler):
            await handler()
        else:
            handler()


class HandlersLifespan:
    """The lifespan of a router without `lifespan=`: runs `on_startup` handlers on entry and
    `on_shutdown` handlers on exit. Looks them up on every use, so handlers added later (with
    `add_event_handler`) are run too."""

    def __init__(self, startup: Callable[[], Awaitable[None]], shutdown: Callable[[], Awaitable[None]]) -> None:
        self._startup = startup
        self._shutdown = shutdown

    def __call__(self, app: object) -> HandlersLifespan:
        return self

    async def __aenter__(self) -> None:
        await self._startup()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._shutdown()


class _AsyncFromSyncContextManager(AbstractAsyncContextManager[_T]):
    def __init__(self, cm: AbstractContextManager[_T]) -> None:
        self._cm = cm

    async def __aenter__(self) -> _T:
        return self._cm.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return self._cm.__exit__(exc_type, exc, tb)


def lifespan_context(lifespan: Lifespan[Any] | Callable[[Any], Any]) -> Lifespan[Any]:
    """The lifespan context factory to use for `lifespan=`: itself for the documented form
    (a function returning an async context manager, as `@asynccontextmanager` makes); async
    generator and generator functions are still accepted, with a DeprecationWarning."""
    if inspect.isasyncgenfunction(lifespan):
        warnings.warn(_ASYNC_GENERATOR_DEPRECATED, DeprecationWarning, stacklevel=3)
        return contextlib.asynccontextmanager(lifespan)
    if inspect.isgeneratorfunction(lifespan):
        warnings.warn(_GENERATOR_DEPRECATED, DeprecationWarning, stacklevel=3)
        sync_cm = contextlib.contextmanager(lifespan)

        @functools.wraps(sync_cm)
        def wrapper(app: Any) -> _AsyncFromSyncContextManager[Any]:
            return _AsyncFromSyncContextManager(sync_cm(app))

        return wrapper
    result: Lifespan[Any] = lifespan
    return result


async def serve_lifespan(context: Lifespan[Any], app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Speak the ASGI lifespan protocol around `context(app)`.

    `lifespan.startup` enters the context; the mapping it yields (if any) is merged into
    `scope["state"]`, which the server copies into every request. `lifespan.shutdown` exits
    it. An exception on either side is reported as `lifespan.startup.failed` /
    `lifespan.shutdown.failed` with its traceback as the message, then re-raised.
    """
    started = False
    await receive()
    try:
        async with context(app) as maybe_state:
            if maybe_state is not None:
                if "state" not in scope:
                    raise RuntimeError(STATE_NOT_SUPPORTED)
                scope["state"].update(maybe_state)
            await send({"type": "lifespan.startup.complete"})
            started = True
            await receive()
    except BaseException:
        message = traceback.format_exc()
        if started:
            await send({"type": "lifespan.shutdown.failed", "message": message})
        else:
            await send({"type": "lifespan.startup.failed", "message": message})
        raise
    else:
        await send({"type": "lifespan.shutdown.complete"})
