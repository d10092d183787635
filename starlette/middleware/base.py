"""BaseHTTPMiddleware: HTTP middleware written against `Request` and `Response`.

Theory of operation
-------------------
`dispatch(request, call_next)` runs in the task that called the middleware. `call_next(request)`
starts the downstream application in a child task of a task group that lives as long as this
middleware call, and joins the two through an unbuffered in-memory stream of ASGI messages:

    downstream app --send--> [memory stream, buffer 0] --> call_next, then the body iterator

`call_next` waits for the first message, `http.response.start` (after an optional
`http.response.debug`), and returns a streaming response whose body iterator pulls the rest of
the messages from the stream. Nothing is buffered: the downstream app streams through us with
back-pressure.

Errors. An exception the downstream app raises before it starts its response is re-raised by
`call_next`, so `dispatch` can catch it (and, caught, it is not raised again). One raised after
the response started is re-raised once the response has been sent, so that outer middleware
and the server see it. If the app
ends without starting a response, `call_next` raises RuntimeError("No response returned.").

Receiving. The downstream app reads the request body through `_CachedRequest.wrapped_receive`:
if `dispatch` already read the body (`body()`, `json()`, `form()`), the app is handed the same
bytes again; otherwise the messages pass through (and the middleware's request knows the
stream was consumed). Once our response has been sent, downstream `receive()` answers
`http.disconnect`, so an endpoint streaming until the client leaves stops.

If `dispatch` returns a response of its own and never reads the one from `call_next`, the
stream is closed when our response is done: the downstream app's further sends are dropped and
it runs to completion (its background tasks included) before the middleware call returns.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeVar

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from starlette._first_to_return import run_until_first_returns as _run_until_first_returns
from starlette._utils import collapse_excgroups
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "ClientDisconnect"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]
T = TypeVar("T")
# Subscripted once: `create_memory_object_stream[Message]` builds a new generic alias each time.
_create_message_stream = anyio.create_memory_object_stream[Message]


class _CachedRequest(Request):
    """The request `dispatch` sees; also the source of the downstream app's `receive`."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        super().__init__(scope, receive)
        self._downstream_disconnected = False
        self._downstream_consumed = False

    async def wrapped_receive(self) -> Message:
        if self._downstream_disconnected:
            return {"type": "http.disconnect"}
        if self._downstream_consumed:
            # The body has been handed over: the only message left to wait for is the disconnect.
            if not self._is_disconnected:
                message = await self._receive()
                if message["type"] != "http.disconnect":
                    raise RuntimeError(f"Unexpected message received: {message['type']}")
            self._downstream_disconnected = True
            return {"type": "http.disconnect"}
        body: bytes | None = getattr(self, "_body", None)
        if body is not None:
            # dispatch read the whole body: replay it.
            self._downstream_consumed = True
            return {"type": "http.request", "body": body, "more_body": False}
        if self._stream_consumed:
            # dispatch streamed the body without keeping it: nothing left to give.
            self._downstream_consumed = True
            return {"type": "http.request", "body": b"", "more_body": False}
        message = self._pending_messages.pop(0) if self._pending_messages else await self._receive()
        if message["type"] == "http.request":
            if not message.get("more_body", False):
                self._stream_consumed = True
                self._downstream_consumed = True
        else:  # http.disconnect
            self._is_disconnected = True
            self._downstream_disconnected = True
        return message


class BaseHTTPMiddleware:
    """Subclass and override `dispatch(request, call_next)`, or pass `dispatch=` a function."""

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request = _CachedRequest(scope, receive)
        response_sent = anyio.Event()
        app_exc: Exception | None = None
        app_exc_raised_by_call_next = False
        send_stream: ObjectSendStream[Message]
        recv_stream: ObjectReceiveStream[Message]
        send_stream, recv_stream = _create_message_stream()

        async def receive_or_disconnect() -> Message:
            if response_sent.is_set():
                return {"type": "http.disconnect"}
            message: Message | None = None

            async def receive_message() -> None:
                nonlocal message
                message = await request.wrapped_receive()

            # The message, unless our response is sent first: then the wait is abandoned.
            await _run_until_first_returns(receive_message, response_sent.wait)
            if message is None or response_sent.is_set():
                return {"type": "http.disconnect"}
            return message

        async def send_no_error(message: Message) -> None:
            try:
                await send_stream.send(message)
            except anyio.BrokenResourceError:
                # Our response is done and nobody reads any more: drop what follows.
                return

        async def call_next(request: Request) -> Response:
            async def run_app() -> None:
                nonlocal app_exc
                with send_stream:
                    try:
                        await self.app(scope, receive_or_disconnect, send_no_error)
                    except Exception as exc:
                        app_exc = exc

            task_group.start_soon(run_app)

            message: Message | None = None
            info: Any = None
            try:
                message = await recv_stream.receive()
                info = message.get("info") if message["type"] == "http.response.debug" else None
                if info is not None:
                    message = await recv_stream.receive()
            except anyio.EndOfStream:
                message = None
            # Raised outside the `except` so that the traceback does not show EndOfStream.
            if message is None:
                if app_exc is not None:
                    nonlocal app_exc_raised_by_call_next
                    app_exc_raised_by_call_next = True
                    raise app_exc
                raise RuntimeError("No response returned.")

            assert message["type"] == "http.response.start"

            async def body_stream() -> BodyStreamGenerator:
                async for message in recv_stream:
                    if message["type"] == "http.response.pathsend":
                        yield message
                        break
                    assert message["type"] == "http.response.body", f"Unexpected message: {message['type']}"
                    body: bytes = message.get("body", b"")
                    if body:
                        yield body
                    if not message.get("more_body", False):
                        break

            response = _StreamingResponse(status_code=message["status"], content=body_stream(), info=info)
            response.raw_headers = [(bytes(name), bytes(value)) for name, value in message["headers"]]
            return response

        with recv_stream, send_stream, collapse_excgroups():
            async with anyio.create_task_group() as task_group:
                response = await self.dispatch_func(request, call_next)
                await response(scope, request.wrapped_receive, send)
                response_sent.set()
                recv_stream.close()

        if app_exc is not None and not app_exc_raised_by_call_next:
            raise app_exc

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Handle one request; call `call_next(request)` to get the downstream app's response."""
        raise NotImplementedError()


class _StreamingResponse(Response):
    """The response `call_next` returns: the downstream app's status and headers, and its body
    as `body_iterator` (which `dispatch` may replace or wrap)."""

    def __init__(
        self,
        content: AsyncContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.info = info
        self.body_iterator = content
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.info is not None:
            await send({"type": "http.response.debug", "info": self.info})
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        more_body = True
        async for chunk in self.body_iterator:
            if isinstance(chunk, MutableMapping):
                # http.response.pathsend: the server sends the file and ends the response.
                await send(chunk)
                more_body = False
                continue
            body = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": body, "more_body": True})
        if more_body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()
