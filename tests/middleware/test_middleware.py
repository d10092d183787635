"""`Middleware`: the deferred `cls(app, *args, **kwargs)` call that applications build their stack from."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory


class HeaderMiddleware:
    def __init__(self, app: ASGIApp, name: str, value: str = "yes", *, lower: bool = False) -> None:
        self.app = app
        self.name = name
        self.value = value.lower() if lower else value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (self.name.encode(), self.value.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


def header_middleware_factory(app: ASGIApp, name: str) -> ASGIApp:
    return HeaderMiddleware(app, name, "from-factory")


def test_repr_with_positional_and_keyword_arguments() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", value="B", lower=True)
    assert repr(middleware) == "Middleware(HeaderMiddleware, 'x-a', value='B', lower=True)"


def test_repr_with_keyword_arguments_only() -> None:
    assert repr(Middleware(ExceptionMiddleware, debug=True)) == "Middleware(ExceptionMiddleware, debug=True)"


def test_repr_without_arguments() -> None:
    assert repr(Middleware(ExceptionMiddleware)) == "Middleware(ExceptionMiddleware)"


def test_repr_of_a_function_factory() -> None:
    assert repr(Middleware(header_middleware_factory, "x-f")) == "Middleware(header_middleware_factory, 'x-f')"


def test_repr_of_a_factory_without_a_name() -> None:
    factory = functools.partial(HeaderMiddleware, lower=True)
    assert repr(Middleware(factory, "x-p")) == "Middleware(, 'x-p')"


def test_repr_of_a_subclass_uses_its_name() -> None:
    class Deferred(Middleware):
        pass

    assert repr(Deferred(ExceptionMiddleware)) == "Deferred(ExceptionMiddleware)"


def test_iter_unpacks_class_args_and_kwargs() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", value="b")
    cls, args, kwargs = middleware
    assert cls is HeaderMiddleware
    assert args == ("x-a",)
    assert kwargs == {"value": "b"}
    assert list(middleware) == [HeaderMiddleware, ("x-a",), {"value": "b"}]


def test_attributes() -> None:
    middleware = Middleware(HeaderMiddleware, "x-a", lower=True)
    factory: object = middleware.cls
    assert factory is HeaderMiddleware
    assert middleware.args == ("x-a",)
    assert middleware.kwargs == {"lower": True}


@pytest.mark.parametrize(
    ("middleware", "header"),
    [
        (Middleware(HeaderMiddleware, "x-custom", value="Hello", lower=True), "hello"),
        (Middleware(header_middleware_factory, "x-custom"), "from-factory"),
    ],
)
def test_building_the_middleware_wraps_the_app(
    test_client_factory: TestClientFactory, middleware: Middleware, header: str
) -> None:
    cls, args, kwargs = middleware
    app = cls(PlainTextResponse("hi"), *args, **kwargs)
    response = test_client_factory(app).get("/")
    assert response.text == "hi"
    assert response.headers["x-custom"] == header


def test_arguments_are_checked_against_the_factory_signature() -> None:
    # mypy (run with warn_unused_ignores) fails if these stop being type errors.
    wrong_type = Middleware(HeaderMiddleware, 1)  # type: ignore[arg-type]
    unknown = Middleware(HeaderMiddleware, "x-a", unknown=True)  # type: ignore[call-arg]
    missing = Middleware(header_middleware_factory)  # type: ignore[call-arg]
    # At runtime the arguments are only stored; the factory sees them when the stack is built.
    assert list(wrong_type) == [HeaderMiddleware, (1,), {}]
    assert list(unknown) == [HeaderMiddleware, ("x-a",), {"unknown": True}]
    assert list(missing) == [header_middleware_factory, (), {}]


def test_starlette_builds_user_middleware_between_the_error_layers(test_client_factory: TestClientFactory) -> None:
    async def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def handled(request: Request) -> Response:
        raise HTTPException(409)

    async def error(request: Request) -> Response:
        raise RuntimeError("boom")

    app = Starlette(
        routes=[Route("/ok", ok), Route("/handled", handled), Route("/error", error)],
        middleware=[Middleware(HeaderMiddleware, "x-outer"), Middleware(HeaderMiddleware, "x-inner", value="2")],
    )
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/ok")
    assert response.text == "ok"
    # The first middleware listed is the outermost: it sees the inner one's header already set.
    assert list(response.headers)[-2:] == ["x-inner", "x-outer"]
    # Handled exceptions become responses inside the user middleware...
    handled_response = client.get("/handled")
    assert handled_response.status_code == 409
    assert (handled_response.headers["x-outer"], handled_response.headers["x-inner"]) == ("yes", "2")
    # ...errors become the 500 outside of it.
    error_response = client.get("/error")
    assert error_response.status_code == 500
    assert "x-outer" not in error_response.headers


# ---------------------------------------------------------------------------------------------------------------
# Ordering: application lists, add_middleware, and middleware on routes, mounts and routers
# ---------------------------------------------------------------------------------------------------------------


class TraceMiddleware:
    """Appends its label to `scope["trace"]` on the way in (websockets and lifespan included)."""

    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            scope.setdefault("trace", []).append(self.label)
        else:
            lifespan_labels.append(self.label)
        await self.app(scope, receive, send)


lifespan_labels: list[str] = []


def show_trace(request: Request) -> Response:
    return JSONResponse(request.scope.get("trace", []))


async def trace_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(websocket.scope.get("trace", []))
    await websocket.close()


def test_application_list_and_add_middleware_order(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[Route("/", show_trace)],
        middleware=[Middleware(TraceMiddleware, "list 1"), Middleware(TraceMiddleware, "list 2")],
    )
    # add_middleware puts the new middleware outermost (of the user middleware).
    app.add_middleware(TraceMiddleware, "added 1")
    app.add_middleware(TraceMiddleware, label="added 2")
    assert [repr(m) for m in app.user_middleware] == [
        "Middleware(TraceMiddleware, label='added 2')",
        "Middleware(TraceMiddleware, 'added 1')",
        "Middleware(TraceMiddleware, 'list 1')",
        "Middleware(TraceMiddleware, 'list 2')",
    ]
    assert test_client_factory(app).get("/").json() == ["added 2", "added 1", "list 1", "list 2"]


def test_add_middleware_once_started_raises(test_client_factory: TestClientFactory) -> None:
    # Starting means building the middleware stack: on the lifespan startup or the first request.
    app = Starlette(routes=[Route("/", show_trace)])
    app.add_middleware(TraceMiddleware, "before")
    lifespan_labels.clear()
    with test_client_factory(app) as client:
        assert lifespan_labels == ["before"]
        with pytest.raises(RuntimeError, match="^Cannot add middleware after an application has started$"):
            app.add_middleware(TraceMiddleware, "late")
        assert client.get("/").json() == ["before"]

    app = Starlette(routes=[Route("/", show_trace)])
    assert test_client_factory(app).get("/").json() == []
    with pytest.raises(RuntimeError, match="^Cannot add middleware after an application has started$"):
        app.add_middleware(TraceMiddleware, "late")
    assert [repr(m) for m in app.user_middleware] == []


def test_route_and_websocket_route_middleware(test_client_factory: TestClientFactory) -> None:
    async def conflict(request: Request) -> Response:
        raise HTTPException(409)

    app = Starlette(
        routes=[
            Route(
                "/with", show_trace, middleware=[Middleware(TraceMiddleware, "r1"), Middleware(TraceMiddleware, "r2")]
            ),
            Route("/without", show_trace),
            Route("/conflict", conflict, middleware=[Middleware(HeaderMiddleware, "x-route")]),
            WebSocketRoute("/ws", trace_websocket, middleware=[Middleware(TraceMiddleware, "ws")]),
        ],
        middleware=[Middleware(TraceMiddleware, "app")],
    )
    client = test_client_factory(app)
    assert client.get("/with").json() == ["app", "r1", "r2"]
    assert client.get("/without").json() == ["app"]
    # Exception handlers run inside the route, so route middleware sees the handled response.
    response = client.get("/conflict")
    assert response.status_code == 409
    assert response.headers["x-route"] == "yes"
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == ["app", "ws"]


def test_mount_and_router_middleware(test_client_factory: TestClientFactory) -> None:
    inner_router = Router(
        routes=[Route("/r", show_trace), WebSocketRoute("/ws", trace_websocket)],
        middleware=[Middleware(TraceMiddleware, "router")],
    )
    app = Starlette(
        routes=[
            Mount(
                "/mounted",
                routes=[
                    Route("/a", show_trace),
                    Route("/b", show_trace, middleware=[Middleware(TraceMiddleware, "route")]),
                    WebSocketRoute("/ws", trace_websocket),
                ],
                middleware=[Middleware(TraceMiddleware, "mount 1"), Middleware(TraceMiddleware, "mount 2")],
            ),
            Mount("/router", app=inner_router),
            Route("/outside", show_trace),
        ]
    )
    client = test_client_factory(app)
    assert client.get("/mounted/a").json() == ["mount 1", "mount 2"]
    assert client.get("/mounted/b").json() == ["mount 1", "mount 2", "route"]
    assert client.get("/outside").json() == []
    assert client.get("/router/r").json() == ["router"]
    with client.websocket_connect("/mounted/ws") as websocket:
        assert websocket.receive_json() == ["mount 1", "mount 2"]
    with client.websocket_connect("/router/ws") as websocket:
        assert websocket.receive_json() == ["router"]


class DictScopeMiddleware:
    """Third-party style: `scope` annotated as a plain `dict`, `app` as any callable."""

    def __init__(self, app: Callable[..., Awaitable[None]], value: str = "dict") -> None:
        self.app = app
        self.value = value

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        scope.setdefault("trace", []).append(self.value)
        await self.app(scope, receive, send)


class ASGI2StyleMiddleware:
    """Not an ASGI 3 middleware: calling it does not give an awaitable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope) -> Callable[[Receive, Send], Awaitable[None]]:
        raise AssertionError("never built")  # pragma: no cover - only type checked


def test_loosely_annotated_middleware_is_accepted(test_client_factory: TestClientFactory) -> None:
    # mypy checks this file: these lines must type check (the 0.50 relaxed `Middleware` type)...
    app = Starlette(routes=[Route("/", show_trace)], middleware=[Middleware(DictScopeMiddleware, value="listed")])
    app.add_middleware(DictScopeMiddleware)
    assert test_client_factory(app).get("/").json() == ["dict", "listed"]
    # ...while the factory's arguments are still checked, and what it builds must be awaitable.
    wrong = Middleware(DictScopeMiddleware, value=1)  # type: ignore[arg-type]
    not_asgi3 = Middleware(ASGI2StyleMiddleware)  # type: ignore[arg-type]
    assert list(wrong)[1:] == [(), {"value": 1}]
    assert list(not_asgi3)[0] is ASGI2StyleMiddleware
