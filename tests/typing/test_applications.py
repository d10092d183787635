"""Typing of an application as users write it: endpoints, routes, middleware, exception
handlers, lifespan state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any, TypedDict

import httpx
import pytest
from typing_extensions import assert_type

from starlette.applications import Starlette
from starlette.datastructures import State, URLPath
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.exceptions import HTTPException, WebSocketException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory


class LifespanState(TypedDict):
    greeting: str


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncGenerator[LifespanState, None]:
    assert_type(app.state, State)
    yield {"greeting": "hello"}


async def homepage(request: Request) -> JSONResponse:
    greeting = request.state.greeting
    assert_type(greeting, Any)
    return JSONResponse({"greeting": greeting, "page": request.query_params.get("page")})


def sync_page(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"user {request.path_params['user_id']}")


async def plain_response(request: Request) -> Response:
    return Response(b"raw", media_type="application/octet-stream")


def forbidden(request: Request) -> Response:
    raise HTTPException(status_code=403, detail="forbidden")


async def policy(websocket: WebSocket) -> None:
    raise WebSocketException(code=1008, reason="policy")


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("items")

    def post(self, request: Request) -> Response:
        return PlainTextResponse("created", status_code=201)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    text = await websocket.receive_text()
    assert_type(text, str)
    await websocket.send_text(text)
    await websocket.close()


class Echo(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(f"echo {data}")


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "nope"}, status_code=404)


def sync_handler(request: Request, exc: Exception) -> PlainTextResponse:
    return PlainTextResponse("teapot", status_code=418)


async def websocket_handler(websocket: WebSocket, exc: Exception) -> None:
    await websocket.close(code=1008)


async def http_exception(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def websocket_exception(websocket: WebSocket, exc: WebSocketException) -> None:
    await websocket.close(code=exc.code, reason=exc.reason)


class TimingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        assert_type(response, Response)
        response.headers["x-timed"] = "yes"
        return response


class PureASGIMiddleware:
    def __init__(self, app: ASGIApp, *, header_value: str = "pure") -> None:
        self.app = app
        self.header_value = header_value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def custom_dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
    return await call_next(request)


routes: list[BaseRoute] = [
    Route("/", homepage),
    Route("/users/{user_id:int}", sync_page, name="user"),
    Route("/raw", plain_response, methods=["GET", "POST"]),
    Route("/items", Items),
    Route("/forbidden", forbidden),
    WebSocketRoute("/ws-policy", policy),
    WebSocketRoute("/ws", echo),
    WebSocketRoute("/ws-endpoint", Echo),
    Mount("/sub", routes=[Route("/", homepage, name="sub_home")], name="sub"),
    Mount("/asgi", app=PlainTextResponse("mounted")),
    Host("api.example.org", app=Router(routes=[Route("/", homepage)]), name="api"),
]

middleware = [
    Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"]),
    Middleware(TrustedHostMiddleware, allowed_hosts=["testserver", "*.example.org"]),
    Middleware(GZipMiddleware, minimum_size=1000),
    Middleware(SessionMiddleware, secret_key="not-secret", same_site="strict"),
    Middleware(TimingMiddleware),
    Middleware(BaseHTTPMiddleware, dispatch=custom_dispatch),
    Middleware(PureASGIMiddleware, header_value="p"),
]

exception_handlers: dict[Any, ExceptionHandler] = {
    404: not_found,
    RuntimeError: not_found,
    WebSocketException: websocket_handler,
}


def build_app() -> Starlette:
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.add_middleware(PureASGIMiddleware, header_value="added")
    app.add_exception_handler(418, sync_handler)
    app.add_exception_handler(ValueError, not_found)
    # A handler for an exception class may be typed on that class.
    app.add_exception_handler(HTTPException, http_exception)
    app.add_exception_handler(WebSocketException, websocket_exception)
    app.add_route("/added", homepage, methods=["GET"])
    app.add_websocket_route("/ws-added", echo)
    app.mount("/mounted", Router())
    return app


class MyApp(Starlette):
    """A user subclass: lifespan functions may be typed with it."""

    greeting = "subclassed"


@contextlib.asynccontextmanager
async def my_lifespan(app: MyApp) -> AsyncGenerator[None, None]:
    assert_type(app.greeting, str)
    yield


def test_application_types(test_client_factory: TestClientFactory) -> None:
    app = build_app()
    assert_type(app.routes, list[BaseRoute])
    assert_type(app.router, Router)
    assert_type(app.url_path_for("user", user_id=1), URLPath)
    assert_type(app.state, State)
    assert_type(app.debug, bool)
    assert_type(app.user_middleware, list[Middleware])

    with test_client_factory(app) as client:
        response = client.get("/")
        assert_type(response, httpx.Response)
        assert response.json() == {"greeting": "hello", "page": None}
        assert client.get("/users/3").text == "user 3"
        assert client.post("/items").status_code == 201
        assert client.get("/missing").json() == {"detail": "nope"}
        assert client.get("/forbidden").json() == {"detail": "forbidden"}
        with client.websocket_connect("/ws") as session:
            session.send_text("hi")
            assert session.receive_text() == "hi"
        with pytest.raises(WebSocketDisconnect) as disconnect:
            with client.websocket_connect("/ws-policy"):
                pass  # never reached: the handler closes the connection
        assert (disconnect.value.code, disconnect.value.reason) == (1008, "policy")


@pytest.mark.anyio
async def test_exception_handler_decorator_keeps_the_function_type() -> None:
    app = Starlette()

    @app.exception_handler(409)
    async def conflict(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("conflict", status_code=409)

    response = await conflict(Request({"type": "http"}), Exception())
    assert_type(response, PlainTextResponse)
    assert response.status_code == 409
    assert app.exception_handlers[409] is conflict


def test_subclass_lifespan(test_client_factory: TestClientFactory) -> None:
    app = MyApp(
        lifespan=my_lifespan, routes=[Route("/users/{user_id}", sync_page)], exception_handlers={409: sync_handler}
    )
    assert_type(app, MyApp)
    with test_client_factory(app) as client:
        assert client.get("/users/3").text == "user 3"
