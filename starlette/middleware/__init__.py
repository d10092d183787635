"""`Middleware`: a deferred middleware factory call, as listed in `Starlette(middleware=[...])`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp

P = ParamSpec("P")


class _MiddlewareFactory(Protocol[P]):
    # The arguments are checked against the factory's own, but what it builds only has to be an
    # async callable: third-party middleware often annotates `scope` as `dict` or the like, which
    # a strict `ASGIApp` would refuse (parameter types are contravariant).
    def __call__(self, app: ASGIApp, /, *args: P.args, **kwargs: P.kwargs) -> Callable[..., Awaitable[Any]]: ...


class Middleware:
    """A middleware class (or factory) together with the arguments to build it with.

    The application calls `cls(app, *args, **kwargs)` when it builds its middleware stack;
    iterating gives `(cls, args, kwargs)`.
    """

    def __init__(self, cls: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        parts = [getattr(self.cls, "__name__", "")]
        parts.extend(repr(value) for value in self.args)
        parts.extend(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{type(self).__name__}({', '.join(parts)})"
