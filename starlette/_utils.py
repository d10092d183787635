"""Small helpers shared across the package.

Downstream frameworks import `is_async_callable`, `get_route_path` and `collapse_excgroups`
from here, so these names are part of the de-facto public surface.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, Generic, Protocol, TypeVar, overload

from starlette.types import Scope

if sys.version_info >= (3, 13):  # pragma: no cover - the gate runs on 3.11
    from typing import TypeIs
else:  # pragma: no cover - the gate runs on 3.11; 3.13+ takes the branch above
    from typing_extensions import TypeIs

if sys.version_info < (3, 11):  # pragma: no cover - the gate runs on 3.11
    from exceptiongroup import BaseExceptionGroup

has_exceptiongroups = True

T = TypeVar("T")
AwaitableCallable = Callable[..., Awaitable[T]]


@overload
def is_async_callable(obj: AwaitableCallable[T]) -> TypeIs[AwaitableCallable[T]]: ...


@overload
def is_async_callable(obj: Any) -> TypeIs[AwaitableCallable[Any]]: ...


def is_async_callable(obj: Any) -> Any:
    """Tell whether calling `obj` returns an awaitable: a coroutine function, a partial of
    one, or an object whose `__call__` is a coroutine function."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj) or (callable(obj) and inspect.iscoroutinefunction(obj.__call__))


T_co = TypeVar("T_co", covariant=True)


class AwaitableOrContextManager(Awaitable[T_co], AbstractAsyncContextManager[T_co], Protocol[T_co]):
    """Something that can be awaited for a value or used as `async with` for the same value."""


class SupportsAsyncClose(Protocol):
    """An object with an async `close()`."""

    async def close(self) -> None: ...


SupportsAsyncCloseType = TypeVar("SupportsAsyncCloseType", bound=SupportsAsyncClose, covariant=False)


class AwaitableOrContextManagerWrapper(Generic[SupportsAsyncCloseType]):
    """Wraps an awaitable so that it can also be used as an async context manager that
    closes the awaited value on exit (as `Request.form()` does)."""

    __slots__ = ("aw", "entered")

    def __init__(self, aw: Awaitable[SupportsAsyncCloseType]) -> None:
        self.aw = aw

    def __await__(self) -> Generator[Any, None, SupportsAsyncCloseType]:
        return self.aw.__await__()

    async def __aenter__(self) -> SupportsAsyncCloseType:
        self.entered = await self.aw
        return self.entered

    async def __aexit__(self, *args: Any) -> None | bool:
        await self.entered.close()
        return None


@contextmanager
def collapse_excgroups() -> Generator[None, None, None]:
    """Re-raise the single exception inside (possibly nested) one-member exception groups,
    so that callers see the error a task group swallowed rather than the group."""
    try:
        yield
    except BaseException as group:
        exc = group
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        if exc is group:
            raise
        # Raising here would chain the group as the exception's __context__; keep its own.
        context = exc.__context__
        try:
            raise exc
        finally:
            exc.__context__ = context


def get_route_path(scope: Scope) -> str:
    """The part of `scope["path"]` that routing sees: the path with `root_path` removed when
    the path lies under it (servers put the full path in `path`, as the ASGI spec requires)."""
    path: str = scope["path"]
    root_path = scope.get("root_path", "")
    if not root_path:
        return path
    if not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path
