"""Routing: `Route`, `WebSocketRoute`, `Mount` and `Host` route an ASGI connection by its path
(or Host header) to an endpoint or a sub-application; `Router` tries its routes in order and
also serves the lifespan protocol."""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from collections.abc import Awaitable, Callable, Collection, Sequence
from enum import Enum
from re import Pattern
from typing import Any, TypeVar, cast

from starlette._exception_handler import (
    lookup_exception_handler as _lookup_exception_handler,
    respond_to_exception as _respond_to_exception,
    track_response_start as _track_response_start,
    wrap_app_handling_exceptions,
)
from starlette._lifespan import (
    HandlersLifespan as _HandlersLifespan,
    lifespan_context as _lifespan_context,
    run_handlers as _run_handlers,
    serve_lifespan as _serve_lifespan,
)
from starlette._route_table import RouteList as _RouteList, RouteTable as _RouteTable
from starlette._routing_compile import (
    PARAM_REGEX,
    compile_path,
    compile_template as _compile_template,
    host_without_port as _host_without_port,
    replace_params,
)
from starlette._utils import get_route_path, is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.convertors import CONVERTOR_TYPES, Convertor
from starlette.datastructures import URL, Headers, URLPath
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Lifespan, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketClose

__all__ = [
    "CONVERTOR_TYPES",
    "PARAM_REGEX",
    "URL",
    "ASGIApp",
    "BaseRoute",
    "Convertor",
    "HTTPException",
    "Headers",
    "Host",
    "Lifespan",
    "Match",
    "Middleware",
    "Mount",
    "NoMatchFound",
    "PlainTextResponse",
    "Receive",
    "RedirectResponse",
    "Request",
    "Response",
    "Route",
    "Router",
    "Scope",
    "Send",
    "URLPath",
    "WebSocket",
    "WebSocketClose",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "is_async_callable",
    "iscoroutinefunction_or_partial",
    "replace_params",
    "request_response",
    "run_in_threadpool",
    "websocket_session",
    "wrap_app_handling_exceptions",
]

_DecoratedFunc = TypeVar("_DecoratedFunc", bound=Callable[..., Any])

_ON_STARTUP_DEPRECATED = (
    "The on_startup and on_shutdown parameters are deprecated, and they will be removed on version 1.0. "
    "Use the lifespan parameter instead. See more about it on https://starlette.dev/lifespan/."
)
_LIFESPAN_WITH_HANDLERS = (
    "The `lifespan` parameter cannot be used with `on_startup` or `on_shutdown`. "
    "Both `on_startup` and `on_shutdown` will be ignored."
)
_ON_EVENT_DEPRECATED = (
    "The `on_event` decorator is deprecated, and will be removed in version 1.0.0. "
    "Refer to https://starlette.dev/lifespan/ for recommended approach."
)
_ROUTE_DECORATOR_DEPRECATED = (
    "The `route` decorator is deprecated, and will be removed in version 1.0.0. "
    "Refer to https://starlette.dev/routing/ for the recommended approach."
)
_WEBSOCKET_ROUTE_DECORATOR_DEPRECATED = (
    "The `websocket_route` decorator is deprecated, and will be removed in version 1.0.0. "
    "Refer to https://starlette.dev/routing/#websocket-routing for the recommended approach."
)


class NoMatchFound(Exception):
    """Raised by `url_path_for` when no route has that name and exactly those parameters."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(list(path_params.keys()))
        super().__init__(f'No route exists for name "{name}" and params "{params}".')


class Match(Enum):
    """How a route matches a connection: not at all, by path only (wrong HTTP method), or fully."""

    NONE = 0
    PARTIAL = 1
    FULL = 2


# The members as module globals: on Python < 3.12 `Match.FULL` is a slow class attribute lookup,
# and routing uses them several times per request.
_MATCH_NONE = Match.NONE
_MATCH_PARTIAL = Match.PARTIAL
_MATCH_FULL = Match.FULL


def iscoroutinefunction_or_partial(obj: Any) -> bool:
    """Deprecated: whether `obj` (or the function inside nested partials) is a coroutine function."""
    warnings.warn(
        "iscoroutinefunction_or_partial is deprecated, and will be removed in a future release.",
        DeprecationWarning,
        stacklevel=2,
    )
    while isinstance(obj, functools.partial):
        obj = obj.func
    return inspect.iscoroutinefunction(obj)


def request_response(func: Callable[[Request], Awaitable[Response] | Response]) -> ASGIApp:
    """Turn a `request -> response` function (async, or sync run in the threadpool) into an
    ASGI app; the application's exception handlers apply to what it raises."""
    call: Callable[[Request], Awaitable[Response]]
    if is_async_callable(func):
        call = func
    else:
        sync_func = cast(Callable[[Request], Response], func)

        async def call_in_thread(request: Request) -> Response:
            return await run_in_threadpool(sync_func, request)

        call = call_in_thread

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        handlers = scope.get("starlette.exception_handlers")
        if handlers is None:
            response = await call(request)
            await response(scope, receive, send)
            return
        # `wrap_app_handling_exceptions(app, request)`, inlined: this runs on every request.
        sender = _track_response_start(send)
        try:
            response = await call(request)
            await response(scope, receive, sender)
        except Exception as exc:
            handler = _lookup_exception_handler(exc, *handlers)
            if handler is None:
                raise
            await _respond_to_exception(exc, handler, request, scope, receive, sender)

    return app


def websocket_session(func: Callable[[WebSocket], Awaitable[None]]) -> ASGIApp:
    """Turn an async `websocket -> None` function into an ASGI app; the application's
    exception handlers apply to what it raises."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = WebSocket(scope, receive=receive, send=send)

        async def run(scope: Scope, receive: Receive, send: Send) -> None:
            await func(session)

        await wrap_app_handling_exceptions(run, session)(scope, receive, send)

    return app


def get_name(endpoint: Callable[..., Any]) -> str:
    """The default route name of an endpoint: its `__name__`, else its class name."""
    return getattr(endpoint, "__name__", endpoint.__class__.__name__)


def _is_plain_function(endpoint: Callable[..., Any]) -> bool:
    """Whether `endpoint` (partials unwrapped) is a function or a bound method, as opposed to
    a class or a callable object, which routes use as ASGI apps."""
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def _wrap_middleware(app: ASGIApp, middleware: Sequence[Middleware] | None) -> ASGIApp:
    """`app` inside `middleware`, the first one outermost."""
    if middleware is not None:
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
    return app


def _converted(
    match: re.Match[str] | None, convertors: dict[str, Convertor[Any]], scope: Scope
) -> dict[str, Any] | None:
    """The parent's path params (from mounts) updated with the converted groups of `match`;
    None when there is no match or a convertor rejects its text with ValueError (say, an int
    too long for `int()`): a path no route can take is a 404, not a server error."""
    if match is None:
        return None
    path_params = dict(scope.get("path_params", {}))
    if convertors:
        try:
            for name, value in match.groupdict().items():
                path_params[name] = convertors[name].convert(value)
        except ValueError:
            return None
    return path_params


class BaseRoute:
    """The interface of routes: `matches()` a scope, `handle()` a matched connection,
    `url_path_for()` a name. Called directly, a route is an ASGI app of its own that answers
    404 (or closes the websocket) when it does not match."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Whether this route matches, and the scope items to set when it does."""
        raise NotImplementedError()

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The path of the route called `name` with `path_params`, or NoMatchFound."""
        raise NotImplementedError()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a connection this route matched."""
        raise NotImplementedError()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match, child_scope = self.matches(scope)
        if match is _MATCH_NONE:
            if scope["type"] == "http":
                response = PlainTextResponse("Not Found", status_code=404)
                await response(scope, receive, send)
            elif scope["type"] == "websocket":
                websocket_close = WebSocketClose()
                await websocket_close(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handle(scope, receive, send)


class Route(BaseRoute):
    """An HTTP route: `path` (with `{param}` / `{param:convertor}` parts) to `endpoint`.

    A function or method endpoint takes a `Request` and returns a `Response` (sync ones run in
    the threadpool) and accepts only GET (and HEAD) unless `methods` says otherwise; any other
    endpoint (an `HTTPEndpoint` class, an ASGI app) is called as an ASGI app and accepts every
    method unless `methods` is given. A path that matches with another method gets a 405.
    """

    path_regex: Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name: str = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema

        if _is_plain_function(endpoint):
            self.app: ASGIApp = request_response(endpoint)
            if methods is None:
                methods = ["GET"]
        else:
            self.app = endpoint
        self.app = _wrap_middleware(self.app, middleware)

        if methods is None:
            self.methods: set[str] | None = None
        else:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")

        compiled = _compile_template(path)
        self.path_regex, self.path_format, self.param_convertors = compiled[:3]
        self._path_key = (self.path_regex, compiled.first_segment)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            path_params = _converted(self.path_regex.match(get_route_path(scope)), self.param_convertors, scope)
            if path_params is not None:
                child_scope = {"endpoint": self.endpoint, "path_params": path_params}
                methods = self.methods
                if methods and scope["method"] not in methods:
                    return _MATCH_PARTIAL, child_scope
                return _MATCH_FULL, child_scope
        return _MATCH_NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or path_params.keys() != self.param_convertors.keys():
            raise NoMatchFound(name, path_params)
        path, _ = replace_params(self.path_format, self.param_convertors, path_params)
        return URLPath(path=path, protocol="http")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self.methods
        if methods and scope["method"] not in methods:
            headers = {"Allow": ", ".join(sorted(methods))}
            if "app" in scope:
                raise HTTPException(status_code=405, headers=headers)
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Route)
            and self.path == other.path
            and self.endpoint == other.endpoint
            and self.methods == other.methods
        )

    def __repr__(self) -> str:
        methods = sorted(self.methods or [])
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route: `path` to `endpoint`, an async function taking a `WebSocket` or an
    ASGI app (such as a `WebSocketEndpoint` class)."""

    path_regex: Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path.startswith("/"), "Routed paths must start with '/'"
        self.path = path
        self.endpoint = endpoint
        self.name: str = get_name(endpoint) if name is None else name

        if _is_plain_function(endpoint):
            self.app: ASGIApp = websocket_session(endpoint)
        else:
            self.app = endpoint
        self.app = _wrap_middleware(self.app, middleware)

        compiled = _compile_template(path)
        self.path_regex, self.path_format, self.param_convertors = compiled[:3]
        self._path_key = (self.path_regex, compiled.first_segment)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "websocket":
            path_params = _converted(self.path_regex.match(get_route_path(scope)), self.param_convertors, scope)
            if path_params is not None:
                return _MATCH_FULL, {"endpoint": self.endpoint, "path_params": path_params}
        return _MATCH_NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or path_params.keys() != self.param_convertors.keys():
            raise NoMatchFound(name, path_params)
        path, _ = replace_params(self.path_format, self.param_convertors, path_params)
        return URLPath(path=path, protocol="websocket")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, WebSocketRoute) and self.path == other.path and self.endpoint == other.endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"


def _child_url_path_for(
    routes: Sequence[BaseRoute] | None, name: str, path_params: dict[str, Any], own_params: Collection[str]
) -> URLPath | None:
    """The URL path of the first child route that can build `name` from the parameters that are
    not the parent's own (Mount and Host reverse through their children this way)."""
    child_params = {key: value for key, value in path_params.items() if key not in own_params}
    for route in routes or []:
        try:
            return route.url_path_for(name, **child_params)
        except NoMatchFound:
            continue
    return None


class Mount(BaseRoute):
    """A sub-application (`app=`) or a group of routes (`routes=`) under a path prefix.

    It matches `prefix + "/..."` (a bare `prefix` gets redirected there by the router) and
    calls the sub-app with `root_path` extended by the prefix; `path` stays the full path.
    Named mounts prefix the names of their routes: `url_path_for("name:child")`; a named
    mount of an app gives `url_path_for("name", path="/file")`.
    """

    path_regex: Pattern[str]
    path_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path == "" or path.startswith("/"), "Routed paths must start with '/'"
        assert app is not None or routes is not None, "Either 'app=...', or 'routes=' must be specified"
        self.path: str = path.rstrip("/")
        self._base_app: ASGIApp = app if app is not None else Router(routes=routes)
        self.app: ASGIApp = _wrap_middleware(self._base_app, middleware)
        self.name = name
        compiled = _compile_template(self.path + "/{path:path}")
        self.path_regex, self.path_format, self.param_convertors = compiled[:3]
        self._path_key = (self.path_regex, compiled.first_segment)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes of the mounted app (empty when it has none)."""
        return getattr(self._base_app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            route_path = get_route_path(scope)
            path_params = _converted(self.path_regex.match(route_path), self.param_convertors, scope)
            if path_params is not None:
                remaining_path = "/" + path_params.pop("path")
                matched_path = route_path[: -len(remaining_path)]
                root_path = scope.get("root_path", "")
                child_scope = {
                    "path_params": path_params,
                    "app_root_path": scope.get("app_root_path", root_path),
                    "root_path": root_path + matched_path,
                    "endpoint": self.app,
                }
                return _MATCH_FULL, child_scope
        return _MATCH_NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        own_params = self.param_convertors.keys() - {"path"}
        if self.name is not None and name == self.name and "path" in path_params:
            params = dict(path_params)
            params["path"] = params["path"].lstrip("/")
            path, remaining = replace_params(self.path_format, self.param_convertors, params)
            if not remaining:
                return URLPath(path=path)
        elif (self.name is None or name.startswith(self.name + ":")) and own_params <= path_params.keys():
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            own = {key: path_params[key] for key in own_params}
            own["path"] = ""
            prefix, _ = replace_params(self.path_format, self.param_convertors, own)
            prefix = prefix.rstrip("/")
            url = _child_url_path_for(self.routes, child_name, path_params, own_params)
            if url is not None:
                return URLPath(path=prefix + str(url), protocol=url.protocol, host=url.host)
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Mount) and self.path == other.path and self.app == other.app

    def __repr__(self) -> str:
        name = self.name or ""
        return f"{type(self).__name__}(path={self.path!r}, name={name!r}, app={self.app!r})"


def _request_host(scope: Scope) -> str:
    """The Host header without its port ("" when absent)."""
    for key, value in scope["headers"]:
        if key == b"host":
            return _host_without_port(value.decode("latin-1"))
    return ""


class Host(BaseRoute):
    """Routes by the Host header (port ignored): `host` may hold `{param}` parts, which become
    path params; `url_path_for` gives paths that carry the host."""

    host_regex: Pattern[str]
    host_format: str
    param_convertors: dict[str, Convertor[Any]]

    def __init__(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        assert not host.startswith("/"), "Host must not start with '/'"
        self.host = host
        self.app = app
        self.name = name
        self.host_regex, self.host_format, self.param_convertors = compile_path(host)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes of the app (empty when it has none)."""
        return getattr(self.app, "routes", [])

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            path_params = _converted(self.host_regex.match(_request_host(scope)), self.param_convertors, scope)
            if path_params is not None:
                return _MATCH_FULL, {"path_params": path_params, "endpoint": self.app}
        return _MATCH_NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        own_params = self.param_convertors.keys()
        if self.name is not None and name == self.name and "path" in path_params:
            params = dict(path_params)
            path = params.pop("path")
            host, remaining = replace_params(self.host_format, self.param_convertors, params)
            if not remaining:
                return URLPath(path=path, host=host)
        elif (self.name is None or name.startswith(self.name + ":")) and own_params <= path_params.keys():
            child_name = name if self.name is None else name[len(self.name) + 1 :]
            host, _ = replace_params(
                self.host_format, self.param_convertors, {key: path_params[key] for key in own_params}
            )
            url = _child_url_path_for(self.routes, child_name, path_params, own_params)
            if url is not None:
                return URLPath(path=str(url), protocol=url.protocol, host=host)
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Host) and self.host == other.host and self.app == other.app

    def __repr__(self) -> str:
        name = self.name or ""
        return f"{type(self).__name__}(host={self.host!r}, name={name!r}, app={self.app!r})"


_KEYED_MATCHES = (Route.matches, WebSocketRoute.matches, Mount.matches)


def _route_key(route: BaseRoute) -> str | None:
    """The first-segment key of a route for the router's lookup table (see _route_table): only
    for the stock `matches()` and while `path_regex` is still the one the key was made for."""
    if type(route).matches not in _KEYED_MATCHES:
        return None
    path_key: tuple[Pattern[str], str | None] | None = getattr(route, "_path_key", None)
    if path_key is None or path_key[0] is not getattr(route, "path_regex", None):
        return None
    return path_key[1]


class Router:
    """An ordered list of routes, itself an ASGI app.

    The first route that fully matches handles the connection; failing that, the first
    partial match (right path, wrong method: 405); failing that, with `redirect_slashes`, a
    redirect to the same path with the trailing slash toggled when that would match; failing
    that, `default` (404 / websocket close). Lifespan connections run `lifespan`.
    """

    def __init__(
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan[Any] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self.routes: list[BaseRoute] = _RouteList([] if routes is None else routes)
        self.redirect_slashes = redirect_slashes
        self.default: ASGIApp = self.not_found if default is None else default
        self.on_startup: list[Callable[[], Any]] = [] if on_startup is None else list(on_startup)
        self.on_shutdown: list[Callable[[], Any]] = [] if on_shutdown is None else list(on_shutdown)

        if on_startup or on_shutdown:
            warnings.warn(_ON_STARTUP_DEPRECATED, DeprecationWarning, stacklevel=2)
            if lifespan:
                warnings.warn(_LIFESPAN_WITH_HANDLERS, stacklevel=2)

        if lifespan is None:
            self.lifespan_context: Lifespan[Any] = _HandlersLifespan(self.startup, self.shutdown)
        else:
            self.lifespan_context = _lifespan_context(lifespan)

        self.middleware_stack: ASGIApp = _wrap_middleware(self.app, middleware)
        self._table: _RouteTable | None = None

    def _candidates(self, route_path: str) -> Sequence[BaseRoute]:
        routes = self.routes
        if type(routes) is not _RouteList:
            return routes
        table = self._table
        if table is None or table.routes is not routes or table.version != routes.version:
            table = self._table = _RouteTable(routes, _route_key)
        return table.candidates(route_path)

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The default `default`: inside a Starlette app a 404 `HTTPException` (so the app's
        handlers render it), otherwise a plain "Not Found"; websockets are closed."""
        if scope["type"] == "websocket":
            websocket_close = WebSocketClose()
            await websocket_close(scope, receive, send)
            return
        if "app" in scope:
            raise HTTPException(status_code=404)
        response = PlainTextResponse("Not Found", status_code=404)
        await response(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The path of the route called `name` (`"mount:route"` inside named mounts)."""
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    async def startup(self) -> None:
        """Run the `on_startup` handlers."""
        await _run_handlers(self.on_startup)

    async def shutdown(self) -> None:
        """Run the `on_shutdown` handlers."""
        await _run_handlers(self.on_shutdown)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a lifespan connection: startup, wait for shutdown, shut down."""
        await _serve_lifespan(self.lifespan_context, scope.get("app"), scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The router itself, inside its `middleware`."""
        scope_type = scope["type"]
        assert scope_type in ("http", "websocket", "lifespan")
        if "router" not in scope:
            scope["router"] = self
        if scope_type == "lifespan":
            await self.lifespan(scope, receive, send)
            return

        route_path = get_route_path(scope)
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        for route in self._candidates(route_path):
            match, child_scope = route.matches(scope)
            if match is _MATCH_FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is _MATCH_PARTIAL and partial is None:
                partial, partial_scope = route, child_scope

        if partial is not None:
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return

        if scope_type == "http" and self.redirect_slashes and route_path != "/":
            redirect_scope = dict(scope)
            if route_path.endswith("/"):
                redirect_scope["path"] = redirect_scope["path"].rstrip("/")
            else:
                redirect_scope["path"] = redirect_scope["path"] + "/"
            for route in self._candidates(get_route_path(redirect_scope)):
                match, _ = route.matches(redirect_scope)
                if match is not _MATCH_NONE:
                    response = RedirectResponse(url=str(URL(scope=redirect_scope)))
                    await response(scope, receive, send)
                    return

        await self.default(scope, receive, send)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Router) and self.routes == other.routes

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Append a `Mount` of `app` under `path`."""
        self.routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        """Append a `Host` route to `app`."""
        self.routes.append(Host(host, app=app, name=name))

    def add_route(
        self,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response] | Response],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Append a `Route`."""
        route = Route(path, endpoint=endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        self.routes.append(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[[WebSocket], Awaitable[None]], name: str | None = None
    ) -> None:
        """Append a `WebSocketRoute`."""
        self.routes.append(WebSocketRoute(path, endpoint=endpoint, name=name))

    def route(
        self,
        path: str,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator form of `add_route`; list `Route`s instead."""
        warnings.warn(_ROUTE_DECORATOR_DEPRECATED, DeprecationWarning, stacklevel=2)

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.add_route(path, func, methods=methods, name=name, include_in_schema=include_in_schema)
            return func

        return decorator

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator form of `add_websocket_route`; list `WebSocketRoute`s instead."""
        warnings.warn(_WEBSOCKET_ROUTE_DECORATOR_DEPRECATED, DeprecationWarning, stacklevel=2)

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.add_websocket_route(path, func, name=name)
            return func

        return decorator

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        """Add a "startup" or "shutdown" handler (run by the default lifespan only)."""
        assert event_type in ("startup", "shutdown")
        if event_type == "startup":
            self.on_startup.append(func)
        else:
            self.on_shutdown.append(func)

    def on_event(self, event_type: str) -> Callable[[_DecoratedFunc], _DecoratedFunc]:
        """Deprecated decorator form of `add_event_handler`; use `lifespan=` instead."""
        warnings.warn(_ON_EVENT_DEPRECATED, DeprecationWarning, stacklevel=2)

        def decorator(func: _DecoratedFunc) -> _DecoratedFunc:
            self.add_event_handler(event_type, func)
            return func

        return decorator
