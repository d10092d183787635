"""`ExceptionMiddleware`: handled exceptions become responses (HTTP) or closes/denials (WebSocket)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException, WebSocketException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests._server import run_uvicorn
from tests.types import TestClientFactory


class Channel:
    """The server side of one connection: queued incoming messages, recorded outgoing ones."""

    def __init__(self, incoming: Sequence[Message] = ()) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


class CustomError(Exception):
    pass


class SubCustomError(CustomError):
    pass


def raising(exc: Exception) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise exc

    return app


def ws_raising(exc: Exception, *, accept: bool) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if accept:
            await websocket.accept()
        raise exc

    return app


async def custom_handler(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"custom: {exc!r}", status_code=418)


# --- HTTP -----------------------------------------------------------------------------------


def test_http_exception_default_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ExceptionMiddleware(raising(HTTPException(404))))
    response = client.get("/")
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_http_exception_detail_and_headers(test_client_factory: TestClientFactory) -> None:
    exc = HTTPException(401, detail="Who are you?", headers={"WWW-Authenticate": 'Basic realm="test"'})
    response = test_client_factory(ExceptionMiddleware(raising(exc))).get("/")
    assert response.status_code == 401
    assert response.text == "Who are you?"
    assert response.headers["www-authenticate"] == 'Basic realm="test"'


@pytest.mark.parametrize("status_code", [204, 304])
def test_http_exception_without_body(test_client_factory: TestClientFactory, status_code: int) -> None:
    exc = HTTPException(status_code, headers={"etag": '"abc"'})
    response = test_client_factory(ExceptionMiddleware(raising(exc))).get("/")
    assert response.status_code == status_code
    assert response.content == b""
    assert response.headers["etag"] == '"abc"'
    assert "content-type" not in response.headers


def test_handler_by_status_code(test_client_factory: TestClientFactory) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail, "path": request.url.path}, status_code=exc.status_code)

    app = ExceptionMiddleware(raising(HTTPException(404)), handlers={404: not_found})
    response = test_client_factory(app).get("/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "path": "/missing"}


def test_status_handler_only_for_its_status(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(raising(HTTPException(400, "bad")), handlers={404: custom_handler})
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (400, "bad")


def test_status_handler_for_500(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(raising(HTTPException(500)), handlers={500: custom_handler})
    response = test_client_factory(app).get("/")
    assert response.status_code == 418
    assert response.text == "custom: HTTPException(status_code=500, detail='Internal Server Error')"


def test_handler_by_class_catches_subclasses(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(raising(SubCustomError("x")), handlers={CustomError: custom_handler})
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (418, "custom: SubCustomError('x')")


def test_http_exception_handler_can_be_overridden(test_client_factory: TestClientFactory) -> None:
    async def as_json(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    app = ExceptionMiddleware(raising(HTTPException(403, headers={"x-why": "no"})), handlers={HTTPException: as_json})
    response = test_client_factory(app).get("/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Forbidden"}
    assert response.headers["x-why"] == "no"


def test_add_exception_handler_after_construction(test_client_factory: TestClientFactory) -> None:
    middleware = ExceptionMiddleware(raising(CustomError("late")))
    client = test_client_factory(middleware)
    with pytest.raises(CustomError):
        client.get("/")
    middleware.add_exception_handler(CustomError, custom_handler)
    assert client.get("/").status_code == 418

    status_middleware = ExceptionMiddleware(raising(HTTPException(409)))
    status_middleware.add_exception_handler(409, custom_handler)
    assert test_client_factory(status_middleware).get("/").status_code == 418


def test_sync_handler(test_client_factory: TestClientFactory) -> None:
    threads: list[int] = []

    def handler(request: Request, exc: Exception) -> Response:
        threads.append(threading.get_ident())
        return PlainTextResponse("sync", status_code=400)

    app = ExceptionMiddleware(raising(CustomError()), handlers={CustomError: handler})
    response = test_client_factory(app).get("/")
    assert (response.status_code, response.text) == (400, "sync")
    assert threads and threads[0] != threading.get_ident()


def test_unhandled_exception_propagates(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ExceptionMiddleware(raising(CustomError("unhandled"))))
    with pytest.raises(CustomError, match="unhandled"):
        client.get("/")


def test_unhandled_exception_reaches_server_error_middleware(test_client_factory: TestClientFactory) -> None:
    app = ServerErrorMiddleware(ExceptionMiddleware(raising(CustomError("boom"))))
    response = test_client_factory(app, raise_server_exceptions=False).get("/")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_handled_exception_after_response_started(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise HTTPException(400)

    client = test_client_factory(ExceptionMiddleware(app))
    with pytest.raises(RuntimeError, match="Caught handled exception, but response already started."):
        client.get("/")


def test_scope_carries_the_handlers(test_client_factory: TestClientFactory) -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["starlette.exception_handlers"])
        await PlainTextResponse("ok")(scope, receive, send)

    middleware = ExceptionMiddleware(app, handlers={CustomError: custom_handler, 404: custom_handler})
    assert test_client_factory(middleware).get("/").text == "ok"
    (exception_handlers, status_handlers) = seen[0]
    assert exception_handlers == {
        HTTPException: middleware.http_exception,
        WebSocketException: middleware.websocket_exception,
        CustomError: custom_handler,
    }
    assert status_handlers == {404: custom_handler}


@pytest.mark.anyio
async def test_other_scopes_pass_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert "starlette.exception_handlers" not in scope
        await receive()
        await send({"type": "lifespan.startup.complete"})

    channel = Channel([{"type": "lifespan.startup"}])
    await ExceptionMiddleware(app)({"type": "lifespan"}, channel.receive, channel.send)
    assert channel.sent == [{"type": "lifespan.startup.complete"}]


@pytest.mark.anyio
async def test_http_exception_method() -> None:
    middleware = ExceptionMiddleware(raising(CustomError()))
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    response = await middleware.http_exception(request, HTTPException(400, "nope", headers={"x-a": "b"}))
    assert isinstance(response, PlainTextResponse)
    assert (response.status_code, response.body, response.headers["x-a"]) == (400, b"nope", "b")
    empty = await middleware.http_exception(request, HTTPException(304))
    assert type(empty) is Response
    assert (empty.status_code, empty.body) == (304, b"")


def test_constructor_attributes() -> None:
    app = raising(CustomError())
    middleware = ExceptionMiddleware(app, debug=True)
    assert middleware.app is app
    assert middleware.debug is True
    assert ExceptionMiddleware(app).debug is False


# --- WebSocket ------------------------------------------------------------------------------


def test_websocket_exception_closes_with_code_and_reason(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(ws_raising(WebSocketException(code=1013, reason="try later"), accept=True))
    with test_client_factory(app).websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (1013, "try later")


def test_websocket_exception_before_accept(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(ws_raising(WebSocketException(code=1008), accept=False))
    with pytest.raises(WebSocketDisconnect) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.code == 1008


def test_http_exception_before_accept_is_a_denial_response(test_client_factory: TestClientFactory) -> None:
    exc = HTTPException(400, detail="Bad request", headers={"x-reason": "test"})
    app = ExceptionMiddleware(ws_raising(exc, accept=False))
    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.status_code == 400
    assert info.value.text == "Bad request"
    assert info.value.headers["x-reason"] == "test"


def test_custom_http_exception_handler_gives_the_denial_response(test_client_factory: TestClientFactory) -> None:
    async def as_json(conn: Request | WebSocket, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    app = ExceptionMiddleware(ws_raising(HTTPException(403), accept=False), handlers={HTTPException: as_json})
    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(app).websocket_connect("/ws"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.status_code == 403
    assert info.value.json() == {"detail": "Forbidden"}


def test_http_exception_after_accept_closes_with_policy_violation(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(ws_raising(HTTPException(400), accept=True))
    with test_client_factory(app).websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1008


def test_custom_websocket_handler(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket, exc: Exception) -> None:
        await websocket.close(code=4001, reason=f"handled {type(exc).__name__}")

    handlers: dict[Any, ExceptionHandler] = {CustomError: handler}
    app = ExceptionMiddleware(ws_raising(SubCustomError(), accept=True), handlers=handlers)
    with test_client_factory(app).websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4001, "handled SubCustomError")


def test_unhandled_websocket_exception_propagates(test_client_factory: TestClientFactory) -> None:
    app = ExceptionMiddleware(ws_raising(CustomError("ws"), accept=True))
    with pytest.raises(CustomError, match="ws"):
        with test_client_factory(app).websocket_connect("/ws") as session:
            session.receive_text()


@pytest.mark.anyio
async def test_websocket_exception_method() -> None:
    channel = Channel()
    scope: Scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}
    websocket = WebSocket(scope, channel.receive, channel.send)
    await ExceptionMiddleware(raising(CustomError())).websocket_exception(websocket, WebSocketException(1003, "bad"))
    assert channel.sent == [{"type": "websocket.close", "code": 1003, "reason": "bad"}]


# --- a real server --------------------------------------------------------------------------


def test_uvicorn_denial_response_and_close() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if scope["path"] == "/deny":
            raise HTTPException(400, detail="Bad request", headers={"x-reason": "test"})
        await websocket.accept()
        raise WebSocketException(code=1013, reason="try later")

    with run_uvicorn(ExceptionMiddleware(app)) as server:
        with pytest.raises(InvalidStatus) as info:
            with connect(server.ws_url + "/deny", open_timeout=10):
                pass  # pragma: no cover - the handshake is denied
        assert info.value.response.status_code == 400
        assert info.value.response.body == b"Bad request"
        assert info.value.response.headers["x-reason"] == "test"

        with connect(server.ws_url + "/close", open_timeout=10) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "try later")


# --- inside a Starlette application -----------------------------------------------------------


def build_app(**kwargs: Any) -> Starlette:
    async def not_found_endpoint(request: Request) -> Response:
        raise HTTPException(404, detail="no such item")

    def sync_endpoint(request: Request) -> Response:
        raise SubCustomError("from sync")

    async def background_failure(request: Request) -> Response:
        async def task() -> None:
            raise HTTPException(400)

        return PlainTextResponse("sent", background=BackgroundTask(task))

    async def ws_deny(websocket: WebSocket) -> None:
        raise HTTPException(400, detail="Bad request", headers={"x-reason": "test"})

    async def ws_after_accept(websocket: WebSocket) -> None:
        await websocket.accept()
        raise HTTPException(400)

    async def ws_exception(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(code=1003, reason="unsupported")

    routes = [
        Route("/item", not_found_endpoint),
        Route("/sync", sync_endpoint),
        Route("/background", background_failure),
        WebSocketRoute("/ws/deny", ws_deny),
        WebSocketRoute("/ws/after-accept", ws_after_accept),
        WebSocketRoute("/ws/exception", ws_exception),
    ]
    return Starlette(routes=routes, **kwargs)


def test_app_default_http_exception_responses(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(build_app())
    response = client.get("/item")
    assert (response.status_code, response.text) == (404, "no such item")
    response = client.get("/missing")
    assert (response.status_code, response.text) == (404, "Not Found")


def test_app_status_and_class_handlers(test_client_factory: TestClientFactory) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"missing": request.url.path, "detail": exc.detail}, status_code=404)

    client = test_client_factory(build_app(exception_handlers={404: not_found, CustomError: custom_handler}))
    assert client.get("/item").json() == {"missing": "/item", "detail": "no such item"}
    assert client.get("/missing").json() == {"missing": "/missing", "detail": "Not Found"}
    response = client.get("/sync")
    assert (response.status_code, response.text) == (418, "custom: SubCustomError('from sync')")


def test_app_handled_exception_in_background_task(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(build_app())
    with pytest.raises(RuntimeError, match="Caught handled exception, but response already started."):
        client.get("/background")


def test_app_websocket_http_exception_before_accept(test_client_factory: TestClientFactory) -> None:
    with pytest.raises(WebSocketDenialResponse) as info:
        with test_client_factory(build_app()).websocket_connect("/ws/deny"):
            pass  # pragma: no cover - the connection is refused
    assert info.value.status_code == 400
    assert info.value.text == "Bad request"
    assert info.value.headers["x-reason"] == "test"


def test_app_websocket_http_exception_after_accept(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(build_app()).websocket_connect("/ws/after-accept") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert info.value.code == 1008


def test_app_websocket_exception(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(build_app()).websocket_connect("/ws/exception") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (1003, "unsupported")


def test_app_websocket_exception_handler(test_client_factory: TestClientFactory) -> None:
    async def handler(websocket: WebSocket, exc: Exception) -> None:
        await websocket.close(code=4000, reason="custom close")

    app = build_app(exception_handlers={WebSocketException: handler})
    with test_client_factory(app).websocket_connect("/ws/exception") as session:
        with pytest.raises(WebSocketDisconnect) as info:
            session.receive_text()
    assert (info.value.code, info.value.reason) == (4000, "custom close")


def test_uvicorn_app_websocket_denial() -> None:
    with run_uvicorn(build_app()) as server:
        with pytest.raises(InvalidStatus) as info:
            with connect(server.ws_url + "/ws/deny", open_timeout=10):
                pass  # pragma: no cover - the handshake is denied
    assert info.value.response.status_code == 400
    assert info.value.response.body == b"Bad request"
