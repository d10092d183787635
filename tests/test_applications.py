"""`starlette.applications.Starlette`: routing, exception handlers, the middleware stack, state,
decorators (deprecated and not) and the typing of `lifespan`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException, WebSocketException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Host, Mount, NoMatchFound, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory


async def homepage(request: Request) -> Response:
    return PlainTextResponse("home")


async def user(request: Request) -> Response:
    return PlainTextResponse(f"user {request.path_params['username']}")


async def raise_error(request: Request) -> Response:
    raise RuntimeError("endpoint failed")


async def raise_http_exception(request: Request) -> Response:
    raise HTTPException(status_code=418, detail="teapot", headers={"x-tea": "earl grey"})


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


class TraceMiddleware:
    """Records, in `scope["trace"]`, the order in which middleware are entered."""

    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("trace", []).append(self.label)
        await self.app(scope, receive, send)


async def show_trace(request: Request) -> Response:
    return JSONResponse(request.scope.get("trace", []))


# ---------------------------------------------------------------------------------------------------------------
# Construction and basics
# ---------------------------------------------------------------------------------------------------------------


def test_application_routes_and_attributes(test_client_factory: TestClientFactory) -> None:
    routes = [Route("/", homepage, name="home"), Route("/users/{username}", user, name="user")]
    app = Starlette(routes=routes)
    assert app.debug is False
    assert isinstance(app.state, State)
    assert isinstance(app.router, Router)
    assert app.routes == routes
    assert app.routes is app.router.routes
    assert app.exception_handlers == {}
    assert app.user_middleware == []
    assert app.middleware_stack is None
    assert app.url_path_for("user", username="tom") == "/users/tom"
    with pytest.raises(NoMatchFound):
        app.url_path_for("missing")
    client = test_client_factory(app)
    assert client.get("/").text == "home"
    assert client.get("/users/tom").text == "user tom"
    assert client.get("/missing").status_code == 404
    assert client.get("/missing").text == "Not Found"


def test_application_sets_the_app_scope_key(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(str(request.app is app and request.scope["router"] is app.router))

    app = Starlette(routes=[Route("/", endpoint)])
    assert test_client_factory(app).get("/").text == "True"


def test_state_is_per_application() -> None:
    first, second = Starlette(), Starlette()
    first.state.admin = "admin@example.org"
    assert first.state.admin == "admin@example.org"
    assert not hasattr(second.state, "admin")


def test_websocket_routes(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[WebSocketRoute("/ws", websocket_endpoint)])
    client = test_client_factory(app)
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hello"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/missing"):
            pass  # pragma: no cover - refused


def test_mount_and_host_methods(test_client_factory: TestClientFactory) -> None:
    app = Starlette()
    app.mount("/sub", Router([Route("/x", homepage, name="x")]), name="sub")
    app.host("api.example.org", Router([Route("/y", homepage, name="y")]), name="api")
    assert isinstance(app.routes[0], Mount) and isinstance(app.routes[1], Host)
    assert app.url_path_for("sub:x") == "/sub/x"
    assert app.url_path_for("api:y").host == "api.example.org"
    assert test_client_factory(app).get("/sub/x").text == "home"
    assert test_client_factory(app, base_url="http://api.example.org").get("/y").text == "home"


def test_add_route_and_add_websocket_route(test_client_factory: TestClientFactory) -> None:
    app = Starlette()
    app.add_route("/r", homepage, methods=["POST"], name="r", include_in_schema=False)
    app.add_websocket_route("/ws", websocket_endpoint, name="ws")
    route = app.routes[0]
    assert isinstance(route, Route)
    assert route.methods == {"POST"} and route.name == "r" and route.include_in_schema is False
    client = test_client_factory(app)
    assert client.post("/r").text == "home"
    assert client.get("/r").status_code == 405
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hello"
    assert app.url_path_for("ws") == "/ws"


# ---------------------------------------------------------------------------------------------------------------
# Exception handlers
# ---------------------------------------------------------------------------------------------------------------


def test_http_exceptions_default_rendering(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/teapot", raise_http_exception)]))
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.text == "teapot"
    assert response.headers["x-tea"] == "earl grey"


def test_exception_handlers_by_status_code_and_class(test_client_factory: TestClientFactory) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("custom 404", status_code=404)

    def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(
        routes=[Route("/teapot", raise_http_exception)],
        exception_handlers={404: not_found, HTTPException: http_exception},
    )
    client = test_client_factory(app)
    assert client.get("/missing").text == "custom 404"
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "teapot"}
    assert response.headers["x-tea"] == "earl grey"


def test_custom_exception_class_handler(test_client_factory: TestClientFactory) -> None:
    class PaymentRequired(Exception):
        pass

    async def needs_payment(request: Request) -> Response:
        raise PaymentRequired()

    app = Starlette(routes=[Route("/pay", needs_payment)])
    app.add_exception_handler(PaymentRequired, lambda request, exc: PlainTextResponse("pay up", status_code=402))
    assert app.exception_handlers[PaymentRequired] is not None
    response = test_client_factory(app).get("/pay")
    assert response.status_code == 402
    assert response.text == "pay up"


@pytest.mark.parametrize("key", [500, Exception], ids=["500", "Exception"])
def test_server_error_handler(key: int | type[Exception], test_client_factory: TestClientFactory) -> None:
    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=500)

    app = Starlette(routes=[Route("/error", raise_error)], exception_handlers={key: server_error})
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/error")
    assert response.status_code == 500
    assert response.json() == {"error": "endpoint failed"}
    with pytest.raises(RuntimeError, match="endpoint failed"):
        test_client_factory(app).get("/error")


def test_unhandled_error_without_handler(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(Starlette(routes=[Route("/error", raise_error)]), raise_server_exceptions=False)
    response = client.get("/error")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_debug_mode_shows_the_traceback(test_client_factory: TestClientFactory) -> None:
    app = Starlette(debug=True, routes=[Route("/error", raise_error)])
    assert app.debug is True
    client = test_client_factory(app, raise_server_exceptions=False)
    response = client.get("/error")
    assert response.status_code == 500
    assert "RuntimeError: endpoint failed" in response.text


def test_debug_is_read_when_the_stack_is_built(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/error", raise_error)])
    app.debug = True
    client = test_client_factory(app, raise_server_exceptions=False)
    assert "RuntimeError: endpoint failed" in client.get("/error").text


def test_exception_handler_decorator(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/teapot", raise_http_exception)])

    @app.exception_handler(418)
    async def teapot(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("short and stout", status_code=418)

    assert app.exception_handlers == {418: teapot}
    assert test_client_factory(app).get("/teapot").text == "short and stout"


def test_websocket_exception_handler(test_client_factory: TestClientFactory) -> None:
    async def forbidden(websocket: WebSocket) -> None:
        raise WebSocketException(code=4403, reason="nope")

    async def on_websocket_exception(websocket: WebSocket, exc: Exception) -> None:
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code + 1, reason=exc.reason)

    app = Starlette(
        routes=[WebSocketRoute("/ws", forbidden)], exception_handlers={WebSocketException: on_websocket_exception}
    )
    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover - refused
    assert info.value.code == 4404


def test_mounted_application_has_its_own_handlers(test_client_factory: TestClientFactory) -> None:
    async def inner_404(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("inner 404", status_code=404)

    async def outer_404(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("outer 404", status_code=404)

    inner = Starlette(exception_handlers={404: inner_404})
    app = Starlette(routes=[Mount("/inner", app=inner)], exception_handlers={404: outer_404})
    client = test_client_factory(app)
    assert client.get("/inner/missing").text == "inner 404"
    assert client.get("/missing").text == "outer 404"


# ---------------------------------------------------------------------------------------------------------------
# Middleware stack
# ---------------------------------------------------------------------------------------------------------------


def test_middleware_order(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[Route("/", show_trace)],
        middleware=[Middleware(TraceMiddleware, label="first"), Middleware(TraceMiddleware, label="second")],
    )
    app.add_middleware(TraceMiddleware, label="added")
    app.add_middleware(TraceMiddleware, label="added last")
    assert test_client_factory(app).get("/").json() == ["added last", "added", "first", "second"]


def test_middleware_stack_layout_and_single_build(test_client_factory: TestClientFactory) -> None:
    built: list[str] = []

    class CountingMiddleware(TraceMiddleware):
        def __init__(self, app: ASGIApp, label: str) -> None:
            built.append(label)
            super().__init__(app, label)

    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("handled", status_code=500)  # pragma: no cover - not called

    app = Starlette(
        routes=[Route("/", show_trace)],
        middleware=[Middleware(CountingMiddleware, label="user")],
        exception_handlers={500: handler, 404: handler},
    )
    client = test_client_factory(app)
    client.get("/")
    client.get("/")
    assert built == ["user"]
    stack = app.middleware_stack
    assert isinstance(stack, ServerErrorMiddleware)
    assert stack.handler is handler and stack.debug is False
    assert isinstance(stack.app, CountingMiddleware)
    exception_middleware = stack.app.app
    assert isinstance(exception_middleware, ExceptionMiddleware)
    assert exception_middleware.app is app.router
    rebuilt = app.build_middleware_stack()
    assert isinstance(rebuilt, ServerErrorMiddleware) and rebuilt is not stack


def test_add_middleware_after_start_fails(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/", homepage)])
    test_client_factory(app).get("/")
    with pytest.raises(RuntimeError, match="Cannot add middleware after an application has started"):
        app.add_middleware(TraceMiddleware, label="late")


def test_middleware_wraps_lifespan_and_websockets(test_client_factory: TestClientFactory) -> None:
    seen: list[str] = []

    class ScopeTypes:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope["type"])
            await self.app(scope, receive, send)

    app = Starlette(routes=[WebSocketRoute("/ws", websocket_endpoint)], middleware=[Middleware(ScopeTypes)])
    with test_client_factory(app) as client:
        with client.websocket_connect("/ws") as session:
            session.receive_text()
    assert seen == ["lifespan", "websocket"]


def test_middleware_decorator_is_deprecated(test_client_factory: TestClientFactory) -> None:
    app = Starlette(routes=[Route("/", homepage)])

    with pytest.deprecated_call(match="The `middleware` decorator is deprecated"):

        @app.middleware("http")
        async def add_header(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            response = await call_next(request)
            response.headers["x-decorated"] = "yes"
            return response

    middleware_class: object = app.user_middleware[0].cls
    assert middleware_class is BaseHTTPMiddleware
    assert test_client_factory(app).get("/").headers["x-decorated"] == "yes"
    with pytest.deprecated_call():
        with pytest.raises(AssertionError, match=r'Currently only middleware\("http"\) is supported.'):
            app.middleware("websocket")


def test_route_decorators_are_deprecated(test_client_factory: TestClientFactory) -> None:
    app = Starlette()

    with pytest.deprecated_call(match="The `route` decorator is deprecated"):

        @app.route("/decorated", methods=["GET"], name="decorated", include_in_schema=False)
        async def decorated(request: Request) -> Response:
            return PlainTextResponse("decorated")

    with pytest.deprecated_call(match="The `websocket_route` decorator is deprecated"):

        @app.websocket_route("/ws", name="ws")
        async def decorated_ws(websocket: WebSocket) -> None:
            await websocket_endpoint(websocket)

    client = test_client_factory(app)
    assert client.get("/decorated").text == "decorated"
    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "hello"
    assert app.url_path_for("decorated") == "/decorated"


# ---------------------------------------------------------------------------------------------------------------
# Typing of lifespan (checked by mypy): the lifespan gets the precise application type.
# ---------------------------------------------------------------------------------------------------------------


class CustomApp(Starlette):
    greeting = "hello"


@contextlib.asynccontextmanager
async def custom_lifespan(app: CustomApp) -> AsyncIterator[dict[str, str]]:
    yield {"greeting": app.greeting}


def test_lifespan_receives_the_subclass(test_client_factory: TestClientFactory) -> None:
    async def greet(request: Request) -> Response:
        return PlainTextResponse(request.state.greeting)

    app = CustomApp(routes=[Route("/", greet)], lifespan=custom_lifespan)
    with test_client_factory(app) as client:
        assert client.get("/").text == "hello"


@pytest.mark.anyio
async def test_application_called_directly() -> None:
    app = Starlette(routes=[Route("/", homepage)])
    sent: list[Message] = []
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("testserver", 80),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}  # pragma: no cover - not read

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert scope["app"] is app
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"home"
