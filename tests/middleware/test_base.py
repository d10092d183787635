from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, DispatchFunction, RequestResponseEndpoint, _StreamingResponse
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
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


# ---------------------------------------------------------------------------------------------
# A fake server for driving the middleware directly: it hands over the request body, records
# what is sent, and answers `http.disconnect` once `disconnect` is set.
# ---------------------------------------------------------------------------------------------


def http_scope(method: str = "GET", path: str = "/", spec_version: str = "2.3") -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


class FakeServer:
    def __init__(self, *chunks: bytes) -> None:
        self.incoming: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
            for index, chunk in enumerate(chunks or (b"",))
        ]
        self.disconnect = anyio.Event()
        self.sent: list[Message] = []
        self.first_chunk = anyio.Event()
        self.complete = anyio.Event()

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        if not self.disconnect.is_set():  # as uvicorn's: no checkpoint once disconnected
            await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body":
            if message.get("body"):
                self.first_chunk.set()
            if not message.get("more_body", False):
                self.complete.set()

    @property
    def status(self) -> int:
        status: int = self.sent[0]["status"]
        return status

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.sent if message["type"] == "http.response.body")


async def passthrough(request: Request, call_next: RequestResponseEndpoint) -> Response:
    return await call_next(request)


# ---------------------------------------------------------------------------------------------
# Streaming: nothing is buffered.
# ---------------------------------------------------------------------------------------------


def streaming_app(release: anyio.Event, finished: list[str], *middleware: Middleware) -> Starlette:
    async def endpoint(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            await release.wait()
            yield b"second"
            finished.append("endpoint")

        return StreamingResponse(chunks(), media_type="text/plain")

    return Starlette(routes=[Route("/", endpoint)], middleware=list(middleware))


@pytest.mark.anyio
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_first_chunk_is_sent_before_the_endpoint_finishes(spec_version: str) -> None:
    server = FakeServer()
    finished: list[str] = []
    app = streaming_app(server.first_chunk, finished, Middleware(CustomHeaderMiddleware))
    with anyio.fail_after(5):  # buffering would wait for "second", which waits for "first": a hang
        await app(http_scope(spec_version=spec_version), server.receive, server.send)
    assert finished == ["endpoint"]
    bodies = [message["body"] for message in server.sent if message["type"] == "http.response.body"]
    assert bodies == [b"first", b"second", b""]
    assert server.headers[b"custom-header"] == b"Example"


@pytest.mark.anyio
async def test_stacked_middleware_stream_without_buffering() -> None:
    server = FakeServer()
    finished: list[str] = []

    async def outer(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["X-Outer"] = "1"
        return response

    app = streaming_app(
        server.first_chunk,
        finished,
        Middleware(BaseHTTPMiddleware, dispatch=outer),
        Middleware(CustomHeaderMiddleware),
        Middleware(BaseHTTPMiddleware, dispatch=passthrough),
    )
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    assert finished == ["endpoint"]
    assert server.body == b"firstsecond"
    assert server.headers[b"x-outer"] == b"1"
    assert server.headers[b"custom-header"] == b"Example"


@pytest.mark.anyio
async def test_dispatch_wrapping_the_body_iterator_still_streams() -> None:
    server = FakeServer()
    finished: list[str] = []

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)

        async def upper() -> AsyncIterator[bytes]:
            async for chunk in response.body_iterator:  # type: ignore[attr-defined]  # call_next's streamed response
                yield chunk.upper()

        return StreamingResponse(upper(), status_code=response.status_code, headers=dict(response.headers))

    app = streaming_app(server.first_chunk, finished, Middleware(BaseHTTPMiddleware, dispatch=dispatch))
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    assert finished == ["endpoint"]
    assert server.body == b"FIRSTSECOND"
    assert server.headers[b"content-type"] == b"text/plain; charset=utf-8"


def test_streaming_response_from_dispatch_without_call_next(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        async def chunks() -> AsyncIterator[str]:
            yield "from "
            yield "dispatch"

        return StreamingResponse(chunks(), media_type="text/plain", headers={"X-Streamed": "yes"})

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    response = client.get("/")
    assert response.text == "from dispatch"
    assert response.headers["x-streamed"] == "yes"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.anyio
async def test_app_ending_without_a_final_body_message_ends_the_response() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})

    server = FakeServer()
    await BaseHTTPMiddleware(app, dispatch=passthrough)(http_scope(), server.receive, server.send)
    assert server.body == b"partial"
    assert server.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_empty_chunks_are_not_forwarded() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    server = FakeServer()
    await BaseHTTPMiddleware(app, dispatch=passthrough)(http_scope(), server.receive, server.send)
    assert [message.get("body") for message in server.sent[1:]] == [b"a", b"b", b""]


# ---------------------------------------------------------------------------------------------
# Background tasks
# ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_response_is_complete_before_the_background_task_runs() -> None:
    server = FakeServer()
    ran: list[str] = []

    async def task() -> None:
        await server.complete.wait()  # a hang if the response waited for the task
        ran.append("task")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    assert ran == ["task"]
    assert server.body == b"ok"


def test_background_tasks_all_run(test_client_factory: TestClientFactory) -> None:
    ran: list[str] = []

    async def endpoint(request: Request) -> Response:
        tasks = BackgroundTasks()
        tasks.add_task(ran.append, "one")
        tasks.add_task(ran.append, "two")
        return JSONResponse({"ok": True}, background=tasks)

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    response = test_client_factory(app).get("/")
    assert response.json() == {"ok": True}
    assert ran == ["one", "two"]


def test_background_task_error_is_raised_as_itself(test_client_factory: TestClientFactory) -> None:
    def task() -> None:
        raise ValueError("background failed")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    with pytest.raises(ValueError, match="background failed") as info:
        test_client_factory(app).get("/")
    assert type(info.value) is ValueError


@pytest.mark.anyio
async def test_background_task_error_comes_after_the_response() -> None:
    def task() -> None:
        raise ValueError("background failed")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    server = FakeServer()
    with pytest.raises(ValueError, match="background failed"):
        await app(http_scope(), server.receive, server.send)
    assert server.status == 200
    assert server.body == b"ok"
    assert server.complete.is_set()


@pytest.mark.anyio
async def test_background_task_runs_when_the_client_disconnected_mid_stream() -> None:
    ran: list[str] = []
    server = FakeServer()

    async def endpoint(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            server.disconnect.set()
            await anyio.sleep_forever()
            yield b"never"  # pragma: no cover - the stream is stopped by the disconnect

        return StreamingResponse(chunks(), background=BackgroundTask(ran.append, "task"))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    assert ran == ["task"]
    assert server.body == b"first"


# ---------------------------------------------------------------------------------------------
# Exceptions come out as themselves
# ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_app_exception_reaches_dispatch_as_itself() -> None:
    error = KeyError("downstream")
    caught: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise error

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except Exception as exc:
            caught.append(exc)
            raise

    server = FakeServer()
    with pytest.raises(KeyError) as info:
        await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert caught == [error]
    assert info.value is error
    assert error.__context__ is None
    assert error.__cause__ is None
    assert server.sent == []


@pytest.mark.anyio
async def test_exceptions_reach_an_outer_middleware_as_themselves() -> None:
    seen: list[BaseException] = []

    class Outer:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                seen.append(exc)

    async def before_start(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("before start")

    async def after_start(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("after start")

    async def failing_dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        raise LookupError("in dispatch")

    for app, dispatch in [
        (before_start, passthrough),
        (after_start, passthrough),
        (homepage_app, failing_dispatch),
        (after_start, failing_dispatch),
    ]:
        server = FakeServer()
        await Outer(BaseHTTPMiddleware(app, dispatch=dispatch))(http_scope(), server.receive, server.send)
    assert [(type(exc), str(exc)) for exc in seen] == [
        (ValueError, "before start"),
        (ValueError, "after start"),
        (LookupError, "in dispatch"),
        (LookupError, "in dispatch"),
    ]
    assert all(exc.__context__ is None and exc.__cause__ is None for exc in seen)


@pytest.mark.anyio
async def test_exception_raised_while_the_app_streams_cancels_the_app() -> None:
    stopped: list[str] = []

    async def endpoint(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x"
            finally:
                stopped.append("generator closed")

        return StreamingResponse(chunks())

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        async for _ in response.body_iterator:  # type: ignore[attr-defined]  # call_next's streamed response
            raise LookupError("enough")
        raise AssertionError("unreachable")  # pragma: no cover - the loop raises

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    server = FakeServer()
    with anyio.fail_after(5):
        with pytest.raises(LookupError, match="enough") as info:
            await app(http_scope(spec_version="2.4"), server.receive, server.send)
    assert info.value.__context__ is None
    assert stopped == ["generator closed"]


def test_exception_handler_of_the_app_sees_the_original_exception(test_client_factory: TestClientFactory) -> None:
    handled: list[BaseException] = []

    async def handler(request: Request, exc: Exception) -> Response:
        handled.append(exc)
        return PlainTextResponse(f"handled {type(exc).__name__}", status_code=500)

    app = Starlette(
        routes=[Route("/exc", exc)],
        middleware=[Middleware(CustomHeaderMiddleware)],
        exception_handlers={Exception: handler},
    )
    response = test_client_factory(app, raise_server_exceptions=False).get("/exc")
    assert response.status_code == 500
    assert response.text == "handled RuntimeError"
    assert [type(error) for error in handled] == [RuntimeError]


def test_exception_caught_in_dispatch_is_not_raised_again(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except RuntimeError:
            return PlainTextResponse("recovered")

    app = Starlette(
        routes=[Route("/exc", exc)],
        middleware=[Middleware(CustomHeaderMiddleware), Middleware(BaseHTTPMiddleware, dispatch=dispatch)],
    )
    response = test_client_factory(app).get("/exc")
    assert response.text == "recovered"
    assert response.headers["custom-header"] == "Example"


def test_stacked_middleware_reraise_the_app_exception(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        Middleware(CustomHeaderMiddleware),
        Middleware(BaseHTTPMiddleware, dispatch=passthrough),
        Middleware(CustomHeaderMiddleware),
    )
    with pytest.raises(RuntimeError, match="Exc") as info:
        test_client_factory(app).get("/exc")
    assert type(info.value) is RuntimeError
    assert info.value.__context__ is None


# ---------------------------------------------------------------------------------------------
# The request body read in dispatch, and read downstream
# ---------------------------------------------------------------------------------------------


async def echo_everything(request: Request) -> Response:
    kind = request.query_params["kind"]
    if kind == "body":
        return PlainTextResponse(await request.body())
    if kind == "json":
        return JSONResponse(await request.json())
    if kind == "stream":
        return PlainTextResponse(b"|".join([chunk async for chunk in request.stream()]))
    async with request.form() as form:
        fields = {}
        for key, value in form.multi_items():
            fields[key] = value if isinstance(value, str) else (await value.read()).decode()
    return JSONResponse(fields)


def body_reading_app(reader: str) -> Starlette:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if reader == "body":
            seen = len(await request.body())
        elif reader == "json":
            seen = len(await request.json())
        else:
            async with request.form() as form:
                seen = len(form)
        response = await call_next(request)
        response.headers["X-Seen"] = str(seen)
        return response

    return Starlette(
        routes=[Route("/", echo_everything, methods=["POST"])],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)],
    )


@pytest.mark.parametrize("reader", ["body", "json"])
def test_body_read_in_dispatch_can_be_read_downstream(test_client_factory: TestClientFactory, reader: str) -> None:
    client = test_client_factory(body_reading_app(reader))
    payload = b'{"a": 1, "b": [2]}'
    assert client.post("/?kind=body", content=payload).content == payload
    assert client.post("/?kind=json", content=payload).json() == {"a": 1, "b": [2]}
    response = client.post("/?kind=stream", content=payload)
    assert response.content == payload + b"|"  # one chunk, then the closing empty one
    assert response.headers["X-Seen"] == ("18" if reader == "body" else "2")


@pytest.mark.parametrize("reader", ["body", "form"])
def test_form_read_in_dispatch_can_be_read_downstream(test_client_factory: TestClientFactory, reader: str) -> None:
    client = test_client_factory(body_reading_app(reader))
    form = {"name": "value", "other": "x y"}
    response = client.post("/?kind=form", data=form)
    assert response.json() == form
    assert response.headers["X-Seen"] == ("20" if reader == "body" else "2")
    response = client.post("/?kind=form", data=form, files={"upload": ("a.txt", b"file content", "text/plain")})
    assert response.json() == {**form, "upload": "file content"}
    if reader == "form":
        assert response.headers["X-Seen"] == "3"
    assert client.post("/?kind=body", data=form).content == b"name=value&other=x+y"


def test_form_read_twice_in_dispatch(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        async with request.form() as first:
            assert await request.form() is first
        return await call_next(request)

    app = Starlette(
        routes=[Route("/", echo_everything, methods=["POST"])],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)],
    )
    assert test_client_factory(app).post("/?kind=form", data={"a": "1"}).json() == {"a": "1"}


def test_body_streamed_by_dispatch_then_form_in_dispatch(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        async for _ in request.stream():
            pass
        with pytest.raises(RuntimeError, match="Stream consumed"):
            await request.form()
        return await call_next(request)

    app = Starlette(
        routes=[Route("/", echo_everything, methods=["POST"])],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)],
    )
    assert test_client_factory(app).post("/?kind=body", data={"a": "1"}).content == b""


def test_body_in_chunks_read_by_dispatch_reaches_the_app_whole(test_client_factory: TestClientFactory) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"one "
        yield b"two "
        yield b"three"

    client = test_client_factory(body_reading_app("body"))
    response = client.post("/?kind=stream", content=chunks())
    assert response.content == b"one two three|"
    assert response.headers["X-Seen"] == "13"


@pytest.mark.anyio
async def test_body_streams_through_when_dispatch_does_not_read_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        chunks = [(await receive())["body"] for _ in range(3)]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b",".join(chunks)})

    server = FakeServer(b"a", b"b", b"c")
    await BaseHTTPMiddleware(app, dispatch=passthrough)(http_scope("POST"), server.receive, server.send)
    assert server.body == b"a,b,c"


# ---------------------------------------------------------------------------------------------
# Client disconnects
# ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("layers", [1, 3])
async def test_endpoint_streaming_until_the_client_leaves_stops(layers: int) -> None:
    server = FakeServer()
    stopped: list[str] = []

    async def endpoint(request: Request) -> Response:
        async def forever() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick"
                    if len(server.sent) > 3:
                        server.disconnect.set()
                    await anyio.sleep(0)
            finally:
                stopped.append("stopped")

        return StreamingResponse(forever())

    middleware = [Middleware(CustomHeaderMiddleware) for _ in range(layers)]
    app = Starlette(routes=[Route("/", endpoint)], middleware=middleware)
    with anyio.fail_after(5):
        await app(http_scope(), server.receive, server.send)
    assert stopped == ["stopped"]
    assert server.body.startswith(b"ticktick")


@pytest.mark.anyio
async def test_polling_is_disconnected_while_connected() -> None:
    server = FakeServer(b"body")
    polls: list[bool] = []

    async def endpoint(request: Request) -> Response:
        for _ in range(3):
            polls.append(await request.is_disconnected())
        return PlainTextResponse(await request.body())

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        polls.append(await request.is_disconnected())
        return await call_next(request)

    app = Starlette(
        routes=[Route("/", endpoint, methods=["POST"])], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)]
    )
    with anyio.fail_after(5):
        await app(http_scope("POST"), server.receive, server.send)
    assert polls == [False, False, False, False]
    assert server.body == b"body"


def test_request_state_is_shared_with_the_endpoint(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        request.state.seen_by_endpoint = True
        return PlainTextResponse(request.state.user)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        request.state.user = "alice"
        response = await call_next(request)
        response.headers["X-Endpoint-Saw-State"] = str(request.state.seen_by_endpoint)
        return response

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    response = test_client_factory(app).get("/")
    assert response.text == "alice"
    assert response.headers["X-Endpoint-Saw-State"] == "True"


@pytest.mark.anyio
async def test_endpoint_sees_is_disconnected() -> None:
    server = FakeServer(b"body")
    server.disconnect.set()
    seen: list[bool] = []

    async def endpoint(request: Request) -> Response:
        assert await request.body() == b"body"
        seen.append(await request.is_disconnected())
        return PlainTextResponse("gone")

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])], middleware=[Middleware(CustomHeaderMiddleware)])
    await app(http_scope("POST"), server.receive, server.send)
    assert seen == [True]


@pytest.mark.anyio
async def test_disconnect_before_the_body_raises_client_disconnect_downstream() -> None:
    server = FakeServer()
    server.incoming.clear()
    server.disconnect.set()
    errors: list[BaseException] = []

    async def endpoint(request: Request) -> Response:
        try:
            await request.body()
        except ClientDisconnect as error:
            errors.append(error)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/", endpoint, methods=["POST"])], middleware=[Middleware(CustomHeaderMiddleware)])
    await app(http_scope("POST"), server.receive, server.send)
    assert [type(error) for error in errors] == [ClientDisconnect]
    assert server.status == 204


@pytest.mark.anyio
async def test_disconnect_seen_in_dispatch_reaches_the_app() -> None:
    server = FakeServer()
    server.incoming.clear()
    server.disconnect.set()
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        await Response(status_code=204)(scope, receive, send)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with pytest.raises(ClientDisconnect):
            await request.body()
        return await call_next(request)

    await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope("POST"), server.receive, server.send)
    assert seen == [{"type": "http.disconnect"}]


# ---------------------------------------------------------------------------------------------
# Misuse
# ---------------------------------------------------------------------------------------------


def test_dispatch_returning_none(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        return None  # type: ignore[return-value]  # the mistake under test

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    with pytest.raises(TypeError, match=r"dispatch\(\) returned None instead of a response."):
        client.get("/")


def test_call_next_twice(test_client_factory: TestClientFactory) -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        await call_next(request)
        return await call_next(request)

    client = test_client_factory(make_app(Middleware(BaseHTTPMiddleware, dispatch=dispatch)))
    with pytest.raises(RuntimeError, match=r"call_next\(\) must be called at most once"):
        client.get("/")


@pytest.mark.anyio
async def test_call_next_after_the_response() -> None:
    kept: list[RequestResponseEndpoint] = []

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        kept.append(call_next)
        return PlainTextResponse("early")

    server = FakeServer()
    await BaseHTTPMiddleware(homepage_app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert server.body == b"early"
    with pytest.raises(RuntimeError, match=r"call_next\(\) must be called at most once"):
        await kept[0](Request(http_scope()))


@pytest.mark.anyio
@pytest.mark.parametrize("first", ["http.response.body", "http.response.debug"])
async def test_body_before_start(first: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if first == "http.response.debug":
            await send({"type": first, "info": {}})
        await send({"type": "http.response.body", "body": b"oops"})

    server = FakeServer()
    with pytest.raises(
        RuntimeError, match=r"^Unexpected message: http.response.body \(expected http.response.start\)$"
    ):
        await BaseHTTPMiddleware(app, dispatch=passthrough)(http_scope(), server.receive, server.send)


@pytest.mark.anyio
async def test_unexpected_message_in_the_body() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.start", "status": 200, "headers": []})

    server = FakeServer()
    with pytest.raises(RuntimeError, match=r"^Unexpected message: http.response.start$"):
        await BaseHTTPMiddleware(app, dispatch=passthrough)(http_scope(), server.receive, server.send)


# ---------------------------------------------------------------------------------------------
# Context variables (the documented limitation)
# ---------------------------------------------------------------------------------------------

request_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_var", default="unset")


@pytest.mark.parametrize("with_base_http_middleware", [True, False])
def test_contextvars_do_not_propagate_up(
    test_client_factory: TestClientFactory, with_base_http_middleware: bool
) -> None:
    seen: dict[str, str] = {}

    class Outer:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            request_var.set("outer")
            await self.app(scope, receive, send)
            seen[f"outer after {scope['type']}"] = request_var.get()

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        seen["dispatch before"] = request_var.get()
        request_var.set("dispatch")
        response = await call_next(request)
        seen["dispatch after"] = request_var.get()
        return response

    async def endpoint(request: Request) -> Response:
        seen["endpoint"] = request_var.get()
        request_var.set("endpoint")
        return PlainTextResponse("ok")

    middleware = [Middleware(Outer)]
    if with_base_http_middleware:
        middleware.append(Middleware(BaseHTTPMiddleware, dispatch=dispatch))
    app = Starlette(routes=[Route("/", endpoint)], middleware=middleware)
    assert test_client_factory(app).get("/").text == "ok"
    if with_base_http_middleware:
        assert seen == {
            "dispatch before": "outer",
            "endpoint": "dispatch",
            "dispatch after": "dispatch",
            "outer after http": "dispatch",
        }
    else:  # the control: without BaseHTTPMiddleware the endpoint's value flows back up
        assert seen == {"endpoint": "outer", "outer after http": "endpoint"}


# ---------------------------------------------------------------------------------------------
# Scopes other than http, stacking, HEAD, headers
# ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("scope_type", ["websocket", "lifespan"])
async def test_other_scopes_pass_through_untouched(scope_type: str) -> None:
    calls: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append((scope, receive, send))

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise AssertionError("dispatch is for http only")  # pragma: no cover - must not run

    async def receive() -> Message:
        raise AssertionError("not called")  # pragma: no cover - the app does not receive

    async def send(message: Message) -> None:
        raise AssertionError("not called")  # pragma: no cover - the app does not send

    scope: Scope = {"type": scope_type, "asgi": {"version": "3.0"}}
    await BaseHTTPMiddleware(app, dispatch=dispatch)(scope, receive, send)
    assert len(calls) == 1
    assert calls[0][0] is scope
    assert calls[0][1] is receive
    assert calls[0][2] is send
    assert scope == {"type": scope_type, "asgi": {"version": "3.0"}}


def test_lifespan_runs_through_the_middleware(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(request.state.greeting)

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)], lifespan=lifespan)
    with test_client_factory(app) as client:
        assert events == ["startup"]
        assert client.get("/").text == "hello"
    assert events == ["startup", "shutdown"]


def test_stacked_middleware_run_outermost_first(test_client_factory: TestClientFactory) -> None:
    order: list[str] = []

    def named(name: str) -> DispatchFunction:
        async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
            order.append(f"{name} in")
            response = await call_next(request)
            order.append(f"{name} out")
            response.headers.append("X-Trail", name)
            return response

        return dispatch

    app = make_app(*(Middleware(BaseHTTPMiddleware, dispatch=named(name)) for name in ("a", "b", "c")))
    response = test_client_factory(app).get("/")
    assert response.text == "Homepage"
    assert order == ["a in", "b in", "c in", "c out", "b out", "a out"]
    assert response.headers.get_list("X-Trail") == ["c", "b", "a"]


def test_head_request(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(Middleware(CustomHeaderMiddleware)))
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "8"
    assert response.headers["custom-header"] == "Example"


def test_dispatch_changes_status_headers_and_cookies(test_client_factory: TestClientFactory) -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("body", headers={"X-Remove": "me", "X-Keep": "1"})

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.status_code = 202
        del response.headers["X-Remove"]
        response.headers["X-Keep"] = "2"
        response.headers.append("X-Multi", "a")
        response.headers.append("X-Multi", "b")
        response.set_cookie("session", "abc", httponly=True)
        return response

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(BaseHTTPMiddleware, dispatch=dispatch)])
    response = test_client_factory(app).get("/")
    assert response.status_code == 202
    assert response.text == "body"
    assert "x-remove" not in response.headers
    assert response.headers["x-keep"] == "2"
    assert response.headers.get_list("x-multi") == ["a", "b"]
    assert response.headers["set-cookie"] == "session=abc; HttpOnly; Path=/; SameSite=lax"
    assert response.cookies["session"] == "abc"
    assert response.headers["content-length"] == "4"


# ---------------------------------------------------------------------------------------------
# The downstream task's life: cancelled with the call, never left behind
# ---------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cancelling_the_call_stops_the_app() -> None:
    states: list[str] = []

    async def endpoint(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                yield b"first"
                await anyio.sleep_forever()
                yield b"never"  # pragma: no cover - cancelled above
            finally:
                states.append("app stopped")

        return StreamingResponse(chunks())

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    server = FakeServer()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(app, http_scope(spec_version="2.4"), server.receive, server.send)
            await server.first_chunk.wait()
            task_group.cancel_scope.cancel()
    assert states == ["app stopped"]


@pytest.mark.anyio
async def test_cancelled_while_the_app_runs_its_background_task() -> None:
    states: list[str] = []
    server = FakeServer()

    async def task() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            states.append("background cancelled")

    async def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(task))

    app = Starlette(routes=[Route("/", endpoint)], middleware=[Middleware(CustomHeaderMiddleware)])
    with anyio.fail_after(5):
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as task_group:
                task_group.start_soon(app, http_scope(), server.receive, server.send)
                await server.complete.wait()
                await anyio.sleep(0.01)  # the middleware is now waiting for the background task
                scope.cancel()
    assert server.body == b"ok"
    assert states == ["background cancelled"]


@pytest.mark.anyio
async def test_dispatch_failing_before_the_app_starts_its_response() -> None:
    states: list[str] = []
    release = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await release.wait()
        finally:
            states.append("app ended")

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with anyio.move_on_after(0.01):
            await call_next(request)
        raise TimeoutError("the app is too slow")

    server = FakeServer()
    with anyio.fail_after(5):
        with pytest.raises(TimeoutError, match="the app is too slow"):
            await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert states == ["app ended"]


@pytest.mark.anyio
async def test_dispatch_failing_after_the_app_finished() -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        async for _ in response.body_iterator:  # type: ignore[attr-defined]  # call_next's streamed response
            pass
        await anyio.sleep(0.01)  # the app's task ends
        raise LookupError("late")

    server = FakeServer()
    with pytest.raises(LookupError, match="late"):
        await BaseHTTPMiddleware(homepage_app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert server.sent == []


@pytest.mark.anyio
async def test_dispatch_failing_without_call_next() -> None:
    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        raise LookupError("no call_next")

    server = FakeServer()
    with pytest.raises(LookupError, match="no call_next") as info:
        await BaseHTTPMiddleware(homepage_app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert info.value.__context__ is None


@pytest.mark.anyio
async def test_timeout_around_call_next_then_own_response() -> None:
    release = anyio.Event()
    ran: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        await PlainTextResponse("late", background=BackgroundTask(ran.append, "background"))(scope, receive, send)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with anyio.move_on_after(0.01):
            await call_next(request)
        release.set()
        return PlainTextResponse("timed out", status_code=504)

    server = FakeServer()
    with anyio.fail_after(5):
        await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert server.status == 504
    assert server.body == b"timed out"
    assert ran == ["background"]


@pytest.mark.anyio
async def test_wait_cancelled_as_the_app_sends() -> None:
    # dispatch stops waiting (its cancel scope fires) in the very step where the app sends.
    scopes: list[anyio.CancelScope] = []
    ran: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes[0].cancel()
        await PlainTextResponse("unseen", background=BackgroundTask(ran.append, "app done"))(scope, receive, send)

    async def dispatch(request: Request, call_next: RequestResponseEndpoint) -> Response:
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            await call_next(request)
        assert scope.cancelled_caught
        return PlainTextResponse("cancelled")

    server = FakeServer()
    with anyio.fail_after(5):
        await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope(), server.receive, server.send)
    assert server.body == b"cancelled"
    assert ran == ["app done"]


@pytest.mark.anyio
async def test_streaming_response_class_with_headers() -> None:
    async def chunks() -> AsyncIterator[str]:
        yield "é"

    response = _StreamingResponse(chunks(), status_code=201, headers={"X-A": "1"}, media_type="text/plain")
    assert response.info is None
    server = FakeServer()
    await response(http_scope(), server.receive, server.send)
    assert server.sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"x-a", b"1"), (b"content-type", b"text/plain; charset=utf-8")],
        },
        {"type": "http.response.body", "body": "é".encode(), "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]
