"""`Starlette`, the application class: a `Router` inside the error handling and exception
handling middleware, with the user's middleware in between."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, overload

from starlette.datastructures import State, URLPath
from starlette.middleware import Middleware, _MiddlewareFactory
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import (
    _ROUTE_DECORATOR_DEPRECATED,
    _WEBSOCKET_ROUTE_DECORATOR_DEPRECATED,
    BaseRoute,
    Router,
)
from starlette.types import ASGIApp, ExceptionHandler, Lifespan, Receive, Scope, Send
from starlette.websockets import WebSocket

__all__ = [
    "ASGIApp",
    "AppType",
    "BaseHTTPMiddleware",
    "BaseRoute",
    "ExceptionHandler",
    "ExceptionMiddleware",
    "Lifespan",
    "Middleware",
    "P",
    "Receive",
    "Request",
    "Response",
    "Router",
    "Scope",
    "Send",
    "ServerErrorMiddleware",
    "Starlette",
    "State",
    "URLPath",
    "WebSocket",
]

AppType = TypeVar("AppType", bound="Starlette")
P = ParamSpec("P")
_DecoratedFunc = TypeVar("_DecoratedFunc", bound=Callable[..., Any])
_ExceptionType = TypeVar("_ExceptionType", bound=Exception)

_MIDDLEWARE_DECORATOR_DEPRECATED = (
    "The `middleware` decorator is deprecated, and will be removed in version 1.0.0. "
    "Refer to https://starlette.dev/middleware/#using-middleware for recommended approach."
)


class Starlette:
    """The application: routing, lifespan, middleware and exception handlers.

    The middleware stack is built on the first call: `ServerErrorMiddleware` (the handler for
    500 / `Exception`, or the debug traceback page), then `middleware` in order, then
    `ExceptionMiddleware` (the other exception handlers), then the router.
    """

    def __init__(
        self: AppType,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[AppType] | None = None,
    ) -> None:
        # The lifespan handler, or the deprecated startup/shutdown handlers, not both.
        assert lifespan is None or (on_startup is None and on_shutdown is None), (
            "Use either 'lifespan' or 'on_startup'/'on_shutdown', not both."
        )
        self.debug = debug
        self.state: State = State()
        self.router: Router = Router(routes, on_startup=on_startup, on_shutdown=on_shutdown, lifespan=lifespan)
        self.exception_handlers: dict[Any, ExceptionHandler] = (
            {} if exception_handlers is None else dict(exception_handlers)
        )
        self.user_middleware: list[Middleware] = [] if middleware is None else list(middleware)
        self.middleware_stack: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        """Build the middleware stack around the router (done once, on the first call)."""
        debug = self.debug
        error_handler: ExceptionHandler | None = None
        exception_handlers: dict[Any, ExceptionHandler] = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = value
            else:
                exception_handlers[key] = value

        middleware = [
            Middleware(ServerErrorMiddleware, handler=error_handler, debug=debug),
            *self.user_middleware,
            Middleware(ExceptionMiddleware, handlers=exception_handlers, debug=debug),
        ]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app

    @property
    def routes(self) -> list[BaseRoute]:
        """The router's routes (a mutable list)."""
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The path of the route called `name` (see `Router.url_path_for`)."""
        return self.router.url_path_for(name, **path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        await self.middleware_stack(scope, receive, send)

    def on_event(self, event_type: str) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated: see `Router.on_event`."""
        return self.router.on_event(event_type)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Mount `app` under `path`."""
        self.router.mount(path, app=app, name=name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        """Route requests for `host` to `app`."""
        self.router.host(host, app=app, name=name)

    def add_middleware(self, middleware_class: _MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        """Add a middleware, outermost of the user middleware; only before the app starts."""
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after an application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    # The first overload lets a handler for an exception class be typed on that class (e.g.
    # `exc: HTTPException` for `HTTPException`); the second is the general form.
    @overload
    def add_exception_handler(
        self,
        exc_class_or_status_code: type[_ExceptionType],
        handler: Callable[[Request, _ExceptionType], Response | Awaitable[Response]]
        | Callable[[WebSocket, _ExceptionType], Awaitable[None]],
    ) -> None: ...
    @overload
    def add_exception_handler(
        self, exc_class_or_status_code: int | type[Exception], handler: ExceptionHandler
    ) -> None: ...

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[Exception], handler: Callable[..., Any]
    ) -> None:
        """Handle an exception class or an HTTP status code with `handler`."""
        self.exception_handlers[exc_class_or_status_code] = handler

    def add_event_handler(self, event_type: str, func: Callable[..., Any]) -> None:
        """Add a "startup" or "shutdown" handler (see `Router.add_event_handler`)."""
        self.router.add_event_handler(event_type, func)

    def add_route(
        self,
        path: str,
        route: Callable[[Request], Awaitable[Response] | Response],
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Add a `Route` to the router."""
        self.router.add_route(path, route, methods=methods, name=name, include_in_schema=include_in_schema)

    def add_websocket_route(
        self, path: str, route: Callable[[WebSocket], Awaitable[None]], name: str | None = None
    ) -> None:
        """Add a `WebSocketRoute` to the router."""
        self.router.add_websocket_route(path, route, name=name)

    def exception_handler(
        self, exc_class_or_status_code: int | type[Exception]
    ) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Decorator form of `add_exception_handler`."""

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator

    def route(
        self,
        path: str,
        methods: list[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator form of `add_route`; list `Route`s instead."""
        warnings.warn(_ROUTE_DECORATOR_DEPRECATED, DeprecationWarning, stacklevel=2)

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.router.add_route(path, func, methods=methods, name=name, include_in_schema=include_in_schema)
            return func

        return decorator

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator form of `add_websocket_route`; list `WebSocketRoute`s instead."""
        warnings.warn(_WEBSOCKET_ROUTE_DECORATOR_DEPRECATED, DeprecationWarning, stacklevel=2)

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.router.add_websocket_route(path, func, name=name)
            return func

        return decorator

    def middleware(self, middleware_type: str) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator: `@app.middleware("http")` adds a `BaseHTTPMiddleware` that
        dispatches to the function; list `Middleware` instead."""
        warnings.warn(_MIDDLEWARE_DECORATOR_DEPRECATED, DeprecationWarning, stacklevel=2)
        assert middleware_type == "http", 'Currently only middleware("http") is supported.'

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator
