from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory


class CustomHeaderMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Custom-Header"] = "Example"
        return response


async def homepage(request: Request) -> Response:
    return PlainTextResponse("Homepage")


async def exc(request: Request) -> Response:
    raise RuntimeError("Exc")


async def no_response(request: Request) -> Response:
    class NoResponse:
        def __await__(self) -> Any:
            yield

    return await NoResponse()  # type: ignore[no-any-return]  # an endpoint returning None on purpose


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("Hello, world!")
    await websocket.close()


def make_app(*middleware: Middleware) -> Starlette:
    return Starlette(
        routes=[
            Route("/", homepage),
            Route("/exc", exc),
            WebSocketRoute("/ws", websocket_endpoint),
        ],
        middleware=list(middleware),
    )


def test_subclass_dispatch_changes_the_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(Middleware(CustomHeaderMiddleware)))
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert response.headers["Custom-Header"] == "Example"


def test_dispatch_function(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["X-Path"] = request.url.path
        return response

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    response = client.get("/")
    assert response.headers["X-Path"] == "/"
    assert response.text == "Homepage"


def test_app_exception_reaches_the_client(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(Middleware(CustomHeaderMiddleware)))
    with pytest.raises(RuntimeError, match="Exc"):
        client.get("/exc")


def test_app_exception_becomes_500_without_raise(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(Middleware(CustomHeaderMiddleware)), raise_server_exceptions=False)
    response = client.get("/exc")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_dispatch_can_catch_the_app_exception(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except RuntimeError as error:
            return PlainTextResponse(f"caught {error}", status_code=502)

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    response = client.get("/exc")
    assert response.status_code == 502
    assert response.text == "caught Exc"


def test_no_response_returned(test_client_factory: TestClientFactory) -> None:
    async def silent_app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    client = test_client_factory(BaseHTTPMiddleware(silent_app, dispatch=dispatch))
    with pytest.raises(RuntimeError, match="No response returned."):
        client.get("/")


def test_websocket_and_lifespan_pass_through(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(Middleware(CustomHeaderMiddleware)))
    with client:
        with client.websocket_connect("/ws") as session:
            assert session.receive_text() == "Hello, world!"


def test_dispatch_without_call_next(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return PlainTextResponse("short-circuit", status_code=401)

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    response = client.get("/")
    assert response.status_code == 401
    assert response.text == "short-circuit"


def test_streaming_response_passes_through(test_client_factory: TestClientFactory) -> None:
    async def numbers(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            for number in range(3):
                yield f"{number},"

        return StreamingResponse(stream(), media_type="text/plain")

    app = Starlette(routes=[Route("/", numbers)], middleware=[Middleware(CustomHeaderMiddleware)])
    response = test_client_factory(app).get("/")
    assert response.text == "0,1,2,"
    assert response.headers["custom-header"] == "Example"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_dispatch_can_rewrite_the_body(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]  # the streaming response of call_next
        body = b"".join(chunks)
        return Response(body.upper(), status_code=response.status_code, media_type="text/plain")

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    assert client.get("/").text == "HOMEPAGE"


def test_body_read_in_dispatch_is_replayed_downstream(test_client_factory: TestClientFactory) -> None:
    async def echo(request: Request) -> Response:
        return JSONResponse({"body": (await request.body()).decode(), "json": await request.json()})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        seen = await request.json()
        response = await call_next(request)
        response.headers["X-Seen"] = str(seen["a"])
        return response

    app = Starlette(
        routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)]
    )
    response = test_client_factory(app).post("/", json={"a": 1})
    assert response.json() == {"body": '{"a":1}', "json": {"a": 1}}
    assert response.headers["X-Seen"] == "1"


def test_body_streamed_in_dispatch_leaves_nothing_downstream(test_client_factory: TestClientFactory) -> None:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(f"downstream got {await request.body()!r}")

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        chunks = [chunk async for chunk in request.stream()]
        response = await call_next(request)
        response.headers["X-Length"] = str(len(b"".join(chunks)))
        return response

    app = Starlette(
        routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)]
    )
    response = test_client_factory(app).post("/", content=b"abcdef")
    assert response.text == "downstream got b''"
    assert response.headers["X-Length"] == "6"


def test_body_untouched_by_dispatch_streams_downstream(test_client_factory: TestClientFactory) -> None:
    async def echo(request: Request) -> Response:
        return PlainTextResponse(b"".join([chunk async for chunk in request.stream()]))

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        with pytest.raises(RuntimeError, match="Stream consumed"):
            await request.body()
        return response

    app = Starlette(
        routes=[Route("/", echo, methods=["POST"])], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)]
    )

    def body() -> Any:
        yield b"one "
        yield b"two"

    response = test_client_factory(app).post("/", content=body())
    assert response.text == "one two"


def test_background_task_runs_before_the_call_ends(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    async def task() -> None:
        await anyio.sleep(0.01)
        ran.append("task")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    response = test_client_factory(app).get("/")
    assert response.text == "ok"
    assert ran == ["task"]


def test_ignored_call_next_response_lets_the_app_finish(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    async def task() -> None:
        ran.append("background")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("original", background=BackgroundTask(task))

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        return PlainTextResponse("replaced")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    response = test_client_factory(app).get("/")
    assert response.text == "replaced"
    assert ran == ["background"]


def test_ignored_streaming_response_is_stopped(test_client_factory: TestClientFactory) -> None:
    produced: list[int] = []

    async def endpoint(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            for number in range(1000):
                produced.append(number)
                yield b"x"

        return StreamingResponse(stream())

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        return PlainTextResponse("replaced")

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    response = test_client_factory(app).get("/")
    assert response.text == "replaced"
    assert len(produced) < 1000


def test_downstream_sees_disconnect_once_the_response_is_sent(test_client_factory: TestClientFactory) -> None:
    messages: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await request.body()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done", "more_body": False})
        messages.append(await receive())
        messages.append(await receive())

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    response = test_client_factory(BaseHTTPMiddleware(app, dispatch=dispatch)).get("/")
    assert response.text == "done"
    assert messages == [{"type": "http.disconnect"}, {"type": "http.disconnect"}]


def test_exception_after_response_start_is_reraised(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("late failure")

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    client = test_client_factory(BaseHTTPMiddleware(app, dispatch=dispatch))
    with pytest.raises(ValueError, match="late failure"):
        client.get("/")


def test_debug_info_is_forwarded(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.debug", "info": {"template": "index.html", "context": {"a": 1}}})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    response = test_client_factory(BaseHTTPMiddleware(app, dispatch=dispatch)).get("/")
    assert response.text == "ok"
    assert response.template == "index.html"  # type: ignore[attr-defined]  # set by the TestClient
    assert response.context == {"a": 1}  # type: ignore[attr-defined]  # set by the TestClient


@pytest.mark.anyio
async def test_pathsend_is_forwarded() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.pathsend", "path": "/tmp/file"})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert sent == [
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]},
        {"type": "http.response.pathsend", "path": "/tmp/file"},
    ]


@pytest.mark.anyio
async def test_downstream_receive_passes_client_disconnect_through() -> None:
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert seen == [{"type": "http.disconnect"}, {"type": "http.disconnect"}]
    assert sent[0]["status"] == 204


@pytest.mark.anyio
async def test_unexpected_message_after_the_body() -> None:
    incoming: Iterator[Message] = iter(
        [
            {"type": "http.request", "body": b"x", "more_body": False},
            {"type": "http.request", "body": b"y", "more_body": False},
        ]
    )
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["body"] == b"x"
        try:
            await receive()
        except RuntimeError as error:
            errors.append(error)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert [str(error) for error in errors] == ["Unexpected message received: http.request"]


@pytest.mark.anyio
async def test_is_disconnected_probe_does_not_lose_the_body() -> None:
    incoming = iter([{"type": "http.request", "body": b"payload", "more_body": False}])

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = await Request(scope, receive).body()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        assert not await request.is_disconnected()
        return await call_next(request)

    async def receive() -> Message:
        return next(incoming)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert [message.get("body") for message in sent[1:]] == [b"payload", b""]


def test_dispatch_not_overridden(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(BaseHTTPMiddleware(homepage_app))
    with pytest.raises(NotImplementedError):
        client.get("/")


async def homepage_app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("Homepage")(scope, receive, send)


@pytest.mark.anyio
async def test_disconnect_seen_by_dispatch_is_passed_downstream() -> None:
    incoming: Iterator[Message] = iter(
        [{"type": "http.request", "body": b"payload", "more_body": False}, {"type": "http.disconnect"}]
    )
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        assert await request.body() == b"payload"
        assert await request.is_disconnected()
        return await call_next(request)

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert seen == [{"type": "http.request", "body": b"payload", "more_body": False}, {"type": "http.disconnect"}]


@pytest.mark.anyio
async def test_receive_pending_when_the_response_is_sent_gets_a_disconnect() -> None:
    incoming = iter([{"type": "http.request", "body": b"", "more_body": False}])
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        seen.append(await receive())

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    async def receive() -> Message:
        try:
            return next(incoming)
        except StopIteration:
            await anyio.sleep_forever()
            raise  # unreachable: sleep_forever only ends by cancellation

    sent: list[Message] = []

    async def send(message: Message) -> None:
        await anyio.sleep(0.01)  # a slow client: the app gets to its next receive() first
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    with anyio.fail_after(5):
        await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert seen == [{"type": "http.disconnect"}]
    assert b"".join(message.get("body", b"") for message in sent) == b"done"


def test_background_set_by_dispatch_runs(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    def task(name: str) -> None:
        ran.append(name)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.background = BackgroundTask(task, "from dispatch")
        return response

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    assert client.get("/").text == "Homepage"
    assert ran == ["from dispatch"]


@pytest.mark.anyio
async def test_client_disconnect_after_the_body_reaches_the_app() -> None:
    incoming: Iterator[Message] = iter(
        [{"type": "http.request", "body": b"data", "more_body": False}, {"type": "http.disconnect"}]
    )
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)

    async def receive() -> Message:
        return next(incoming)

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert seen == [{"type": "http.request", "body": b"data", "more_body": False}, {"type": "http.disconnect"}]
