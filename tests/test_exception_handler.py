"""`wrap_app_handling_exceptions`, driven with raw ASGI messages so that every message the
wrapper sends (or does not send) is visible."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from starlette._exception_handler import (
    ExceptionHandlers,
    StatusHandlers,
    wrap_app_handling_exceptions,
)
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

pytestmark = pytest.mark.anyio

DENIAL: dict[str, Any] = {"websocket.http.response": {}}


class Channel:
    """The server side of one connection: queued incoming messages, recorded outgoing ones."""

    def __init__(self, incoming: Sequence[Message] = ()) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []
        self.receive_calls = 0

    async def receive(self) -> Message:
        self.receive_calls += 1
        if not self.incoming:
            raise AssertionError("the app received more messages than the test provides")
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def http_scope(handlers: tuple[ExceptionHandlers, StatusHandlers] | None) -> Scope:
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    if handlers is not None:
        scope["starlette.exception_handlers"] = handlers
    return scope


def ws_scope(handlers: tuple[ExceptionHandlers, StatusHandlers], extensions: dict[str, Any] | None = None) -> Scope:
    scope: Scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b"", "subprotocols": []}
    if extensions is not None:
        scope["extensions"] = extensions
    scope["starlette.exception_handlers"] = handlers
    return scope


def raising(exc: BaseException, *, before: Sequence[Message] = ()) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in before:
            await send(message)
        raise exc

    return app


async def run_http(
    app: ASGIApp, handlers: tuple[ExceptionHandlers, StatusHandlers] | None, channel: Channel | None = None
) -> Channel:
    channel = channel or Channel([{"type": "http.request", "body": b"", "more_body": False}])
    scope = http_scope(handlers)
    request = Request(scope, channel.receive, channel.send)
    await wrap_app_handling_exceptions(app, request)(scope, channel.receive, channel.send)
    return channel


def text_handler(text: str, status_code: int = 500) -> ExceptionHandler:
    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(text, status_code=status_code)

    return handler


def body_of(channel: Channel) -> tuple[int, bytes]:
    start, body = channel.sent
    assert start["type"] == "http.response.start"
    assert body["type"] == "http.response.body"
    return start["status"], body["body"]


class ParentError(Exception):
    pass


class ChildError(ParentError):
    pass


# --- HTTP -----------------------------------------------------------------------------------


async def test_without_handlers_in_scope_exceptions_propagate() -> None:
    exc = ValueError("boom")
    with pytest.raises(ValueError) as info:
        await run_http(raising(exc), None)
    assert info.value is exc


async def test_with_empty_handlers_exceptions_propagate() -> None:
    with pytest.raises(ValueError, match="boom"):
        await run_http(raising(ValueError("boom")), ({}, {}))


async def test_app_without_exception_runs_untouched() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("fine")(scope, receive, send)

    channel = await run_http(app, ({Exception: text_handler("handled")}, {}))
    assert body_of(channel) == (200, b"fine")


async def test_handler_by_exception_class() -> None:
    channel = await run_http(raising(ValueError("boom")), ({ValueError: text_handler("value error", 400)}, {}))
    assert body_of(channel) == (400, b"value error")


async def test_handler_for_a_base_class_catches_subclasses() -> None:
    channel = await run_http(raising(ChildError()), ({ParentError: text_handler("parent")}, {}))
    assert body_of(channel) == (500, b"parent")


async def test_most_specific_class_in_the_mro_wins() -> None:
    handlers: ExceptionHandlers = {
        Exception: text_handler("exception"),
        ParentError: text_handler("parent"),
        ChildError: text_handler("child"),
    }
    assert body_of(await run_http(raising(ChildError()), (handlers, {}))) == (500, b"child")
    assert body_of(await run_http(raising(ParentError()), (handlers, {}))) == (500, b"parent")
    assert body_of(await run_http(raising(KeyError()), (handlers, {}))) == (500, b"exception")


async def test_exception_without_matching_handler_is_reraised() -> None:
    exc = KeyError("missing")
    with pytest.raises(KeyError) as info:
        await run_http(raising(exc), ({ValueError: text_handler("value")}, {404: text_handler("404")}))
    assert info.value is exc


async def test_status_handler_takes_precedence_for_http_exception() -> None:
    handlers = ({HTTPException: text_handler("by class")}, {404: text_handler("not here", 404)})
    assert body_of(await run_http(raising(HTTPException(404)), handlers)) == (404, b"not here")
    # Other status codes fall back to the class handler.
    assert body_of(await run_http(raising(HTTPException(400)), handlers)) == (500, b"by class")


async def test_status_handlers_only_apply_to_http_exceptions() -> None:
    class WithStatus(Exception):
        status_code = 404

    with pytest.raises(WithStatus):
        await run_http(raising(WithStatus()), ({}, {404: text_handler("404")}))


async def test_status_handler_for_http_exception_subclass() -> None:
    class Gone(HTTPException):
        pass

    channel = await run_http(raising(Gone(410)), ({}, {410: text_handler("gone", 410)}))
    assert body_of(channel) == (410, b"gone")


async def test_handler_receives_the_connection_and_exception() -> None:
    seen: list[tuple[object, Exception]] = []
    exc = ValueError("boom")

    async def handler(request: Request, exc: Exception) -> Response:
        seen.append((request, exc))
        return PlainTextResponse("ok")

    scope = http_scope(({ValueError: handler}, {}))
    channel = Channel()
    request = Request(scope, channel.receive, channel.send)
    await wrap_app_handling_exceptions(raising(exc), request)(scope, channel.receive, channel.send)
    assert seen == [(request, exc)]


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def handler(request: Request, exc: Exception) -> Response:
        threads.append(threading.get_ident())
        return PlainTextResponse("sync", status_code=418)

    channel = await run_http(raising(ValueError()), ({ValueError: handler}, {}))
    assert body_of(channel) == (418, b"sync")
    assert threads and threads[0] != threading.get_ident()


async def test_handler_returning_none_sends_nothing() -> None:
    async def handler(request: Request, exc: Exception) -> None:
        return None

    handlers: ExceptionHandlers = {ValueError: handler}  # type: ignore[dict-item]  # None is tolerated at runtime
    channel = await run_http(raising(ValueError()), (handlers, {}))
    assert channel.sent == []


async def test_handled_exception_after_response_started_is_a_runtime_error() -> None:
    exc = HTTPException(400)
    app = raising(exc, before=[{"type": "http.response.start", "status": 200, "headers": []}])
    with pytest.raises(RuntimeError, match="^Caught handled exception, but response already started.$") as info:
        await run_http(app, ({HTTPException: text_handler("nope")}, {}))
    assert info.value.__cause__ is exc


async def test_unhandled_exception_after_response_started_propagates_unchanged() -> None:
    exc = KeyError("x")
    app = raising(exc, before=[{"type": "http.response.start", "status": 200, "headers": []}])
    with pytest.raises(KeyError) as info:
        await run_http(app, ({HTTPException: text_handler("nope")}, {}))
    assert info.value is exc


async def test_base_exceptions_are_never_handled() -> None:
    class Stop(BaseException):
        pass

    with pytest.raises(Stop):
        await run_http(raising(Stop()), ({Exception: text_handler("no")}, {}))


async def test_exception_raised_by_the_handler_propagates_with_context() -> None:
    original = ValueError("original")

    async def handler(request: Request, exc: Exception) -> Response:
        raise LookupError("from handler")

    with pytest.raises(LookupError, match="from handler") as info:
        await run_http(raising(original), ({ValueError: handler}, {}))
    assert info.value.__context__ is original


# --- WebSocket ------------------------------------------------------------------------------


async def run_ws(
    app: ASGIApp,
    handlers: tuple[ExceptionHandlers, StatusHandlers],
    incoming: Sequence[Message] = ({"type": "websocket.connect"},),
    extensions: dict[str, Any] | None = None,
    conn_factory: Callable[[Scope, Channel], WebSocket] | None = None,
) -> Channel:
    channel = Channel(incoming)
    scope = ws_scope(handlers, extensions)
    websocket = (conn_factory or (lambda s, c: WebSocket(s, c.receive, c.send)))(scope, channel)
    await wrap_app_handling_exceptions(app, websocket)(scope, channel.receive, channel.send)
    return channel


async def close_handler(websocket: WebSocket, exc: Exception) -> None:
    await websocket.close(code=4000, reason=str(exc))


async def http_response_handler(conn: Request | WebSocket, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


async def test_websocket_handler_by_class_closes_the_connection() -> None:
    channel = await run_ws(raising(ParentError("custom")), ({ParentError: close_handler}, {}))
    assert channel.sent == [{"type": "websocket.close", "code": 4000, "reason": "custom"}]


async def test_websocket_unhandled_exception_propagates() -> None:
    with pytest.raises(KeyError):
        await run_ws(raising(KeyError()), ({ParentError: close_handler}, {}))


async def test_websocket_sync_handler() -> None:
    seen: list[Exception] = []

    def handler(websocket: WebSocket, exc: Exception) -> None:
        seen.append(exc)

    exc = ParentError()
    channel = await run_ws(raising(exc), ({ParentError: handler}, {}))  # type: ignore[dict-item]  # sync on purpose
    assert seen == [exc]
    assert channel.sent == []


async def test_websocket_http_response_before_accept_becomes_denial_response() -> None:
    app = raising(HTTPException(400, "Bad request", headers={"x-reason": "test"}))
    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL)
    # The extension allows HTTP responses only after "websocket.connect": it is received first.
    assert channel.receive_calls == 1
    start, body = channel.sent
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 400
    assert (b"x-reason", b"test") in [tuple(h) for h in start["headers"]]
    assert body["type"] == "websocket.http.response.body"
    assert body["body"] == b"Bad request"


async def test_websocket_denial_when_the_app_already_received_connect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        raise HTTPException(403)

    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL)
    assert channel.receive_calls == 1
    assert [m["type"] for m in channel.sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert channel.sent[0]["status"] == 403


async def test_websocket_denial_when_the_connection_object_received_connect() -> None:
    # As in routing: the endpoint talks through its `WebSocket`, bypassing the wrapper's callables.
    holder: dict[str, WebSocket] = {}

    def factory(scope: Scope, channel: Channel) -> WebSocket:
        holder["ws"] = WebSocket(scope, channel.receive, channel.send)
        return holder["ws"]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await holder["ws"].receive()
        raise HTTPException(404)

    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL, conn_factory=factory)
    assert channel.receive_calls == 1
    assert channel.sent[0]["status"] == 404
    assert channel.sent[1]["body"] == b"Not Found"


async def test_websocket_denial_not_sent_when_client_left() -> None:
    app = raising(HTTPException(400))
    channel = await run_ws(
        app,
        ({HTTPException: http_response_handler}, {}),
        incoming=[{"type": "websocket.disconnect", "code": 1006}],
        extensions=DENIAL,
    )
    assert channel.sent == []


@pytest.mark.parametrize("extensions", [None, {}, {"websocket.http.response.zerocopy": {}}])
async def test_websocket_http_response_without_denial_extension_closes(extensions: dict[str, Any] | None) -> None:
    channel = await run_ws(
        raising(HTTPException(400)), ({HTTPException: http_response_handler}, {}), extensions=extensions
    )
    assert channel.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


async def test_websocket_http_response_after_accept_closes() -> None:
    app = raising(HTTPException(400), before=[{"type": "websocket.accept"}])
    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL)
    assert channel.sent == [
        {"type": "websocket.accept"},
        {"type": "websocket.close", "code": 1008, "reason": ""},
    ]


async def test_websocket_http_response_after_accept_through_the_connection_object_closes() -> None:
    holder: dict[str, WebSocket] = {}

    def factory(scope: Scope, channel: Channel) -> WebSocket:
        holder["ws"] = WebSocket(scope, channel.receive, channel.send)
        return holder["ws"]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await holder["ws"].accept()
        raise HTTPException(400)

    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL, conn_factory=factory)
    assert [m["type"] for m in channel.sent] == ["websocket.accept", "websocket.close"]
    assert channel.sent[1]["code"] == 1008
    assert holder["ws"].application_state is WebSocketState.CONNECTED


async def test_websocket_http_response_after_close_sends_nothing_more() -> None:
    app = raising(HTTPException(400), before=[{"type": "websocket.close", "code": 1000}])
    channel = await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL)
    assert channel.sent == [{"type": "websocket.close", "code": 1000}]


async def test_websocket_handled_exception_after_denial_started_is_a_runtime_error() -> None:
    exc = HTTPException(400)
    app = raising(exc, before=[{"type": "websocket.http.response.start", "status": 500, "headers": []}])
    with pytest.raises(RuntimeError, match="^Caught handled exception, but response already started.$") as info:
        await run_ws(app, ({HTTPException: http_response_handler}, {}), extensions=DENIAL)
    assert info.value.__cause__ is exc


async def test_websocket_status_handler() -> None:
    channel = await run_ws(
        raising(HTTPException(401)),
        ({HTTPException: http_response_handler}, {401: close_handler}),
    )
    assert channel.sent == [{"type": "websocket.close", "code": 4000, "reason": "401: Unauthorized"}]


async def test_websocket_app_messages_pass_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hi"})
        await send({"type": "websocket.close", "code": 1000})

    channel = await run_ws(app, ({ParentError: close_handler}, {}))
    assert [m["type"] for m in channel.sent] == ["websocket.accept", "websocket.send", "websocket.close"]
