"""Run an ASGI app so that the exception handlers registered on the application apply to it.

`ExceptionMiddleware` stores its handlers in `scope["starlette.exception_handlers"]`; routing
wraps every endpoint with `wrap_app_handling_exceptions`, so a handled exception (such as an
`HTTPException`) is turned into a response right where it is raised, inside any middleware
that routes, mounts or single routes add.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

ExceptionHandlers = dict[Any, ExceptionHandler]
StatusHandlers = dict[int, ExceptionHandler]

_RESPONSE_STARTED = "Caught handled exception, but response already started."
_DENIAL_EXTENSION = "websocket.http.response"
# The close code used when an HTTP response (say from an `HTTPException`) cannot be sent
# to a WebSocket client: the same default as `WebSocketException`, "policy violation".
_WS_POLICY_VIOLATION = 1008

# What the app has sent on a WebSocket connection so far, as far as we can tell.
_WS_STATE_BY_MESSAGE = {
    "websocket.accept": WebSocketState.CONNECTED,
    "websocket.close": WebSocketState.DISCONNECTED,
    "websocket.http.response.start": WebSocketState.RESPONSE,
}


def lookup_exception_handler(
    exc: Exception, exception_handlers: ExceptionHandlers, status_handlers: StatusHandlers
) -> ExceptionHandler | None:
    """The handler for `exc`: by status code for an `HTTPException`, then along its MRO."""
    if status_handlers and isinstance(exc, HTTPException):
        handler = status_handlers.get(exc.status_code)
        if handler is not None:
            return handler
    for cls in type(exc).__mro__:
        handler = exception_handlers.get(cls)
        if handler is not None:
            return handler
    return None


async def _call_handler(handler: ExceptionHandler, conn: Request | WebSocket, exc: Exception) -> Any:
    func: Callable[[Any, Exception], Any] = handler
    if is_async_callable(func):
        return await func(conn, exc)
    return await run_in_threadpool(func, conn, exc)


class ResponseStartTracker:
    """A `send` that notes whether `http.response.start` went through it.

    Theory of operation: `ServerErrorMiddleware`, `ExceptionMiddleware` and every endpoint run by
    `request_response` must know, when an exception reaches them, whether the response has
    started (then no error response may be sent). Rather than each wrapping `send` again (three
    extra calls per message), a layer that is handed a tracker uses it as its own: the layers
    are usually nested directly (routing passes `send` through), so the same messages go through
    the one tracker and its flag is the flag each layer would have kept.
    """

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    # Not `async def`: returning `send`'s awaitable saves a coroutine per message.
    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.started = True
        return self.send(message)


def track_response_start(send: Send) -> ResponseStartTracker:
    """`send` itself when it is a tracker already, else a tracker around it."""
    if type(send) is ResponseStartTracker:
        return send
    return ResponseStartTracker(send)


async def respond_to_exception(
    exc: Exception,
    handler: ExceptionHandler,
    conn: Request | WebSocket,
    scope: Scope,
    receive: Receive,
    sender: ResponseStartTracker,
) -> None:
    """Send `handler`'s response to the HTTP exception `exc` (call it inside the `except` block
    that caught `exc`); RuntimeError if the response has already started."""
    if sender.started:
        raise RuntimeError(_RESPONSE_STARTED) from exc
    response = await _call_handler(handler, conn, exc)
    if response is not None:
        await response(scope, receive, sender)


async def call_handling_http_exceptions(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    handlers: tuple[ExceptionHandlers, StatusHandlers],
    conn: Request | None = None,
) -> None:
    """Run the HTTP `app`, giving what it raises to the matching handler of `handlers`. The
    `Request` passed to a handler is `conn`, or one built only when a handler is called."""
    sender = track_response_start(send)
    try:
        await app(scope, receive, sender)
    except Exception as exc:
        handler = lookup_exception_handler(exc, *handlers)
        if handler is None:
            raise
        request = Request(scope, receive, send) if conn is None else conn
        await respond_to_exception(exc, handler, request, scope, receive, sender)


def wrap_app_handling_exceptions(app: ASGIApp, conn: Request | WebSocket) -> ASGIApp:
    """Wrap `app` so that exceptions it raises are given to the matching handler from
    `scope["starlette.exception_handlers"]` (looked up by status code for `HTTPException`,
    then along the exception's MRO); exceptions without a handler propagate."""
    handlers: tuple[ExceptionHandlers, StatusHandlers] | None = conn.scope.get("starlette.exception_handlers")
    if handlers is None:
        return app
    exception_handlers, status_handlers = handlers
    if not exception_handlers and not status_handlers:
        return app

    if isinstance(conn, Request):
        request = conn

        async def wrapped_http_app(scope: Scope, receive: Receive, send: Send) -> None:
            await call_handling_http_exceptions(app, scope, receive, send, handlers, request)

        return wrapped_http_app

    websocket = conn

    async def wrapped_websocket_app(scope: Scope, receive: Receive, send: Send) -> None:
        # Theory of operation: the app may talk through `conn` (whose own `receive`/`send`
        # bypass this wrapper, as in routing) or through the callables given here (as the app
        # inside `ExceptionMiddleware` does), so what has happened on the connection is the
        # furthest of what `conn` recorded and what passed through this wrapper.
        sent_state = WebSocketState.CONNECTING
        received = False

        async def receiver() -> Message:
            nonlocal received
            received = True
            return await receive()

        async def sender(message: Message) -> None:
            nonlocal sent_state
            sent_state = _WS_STATE_BY_MESSAGE.get(message["type"], sent_state)
            await send(message)

        try:
            await app(scope, receiver, sender)
        except Exception as exc:
            handler = lookup_exception_handler(exc, exception_handlers, status_handlers)
            if handler is None:
                raise
            state = sent_state
            if websocket.application_state.value > state.value:
                state = websocket.application_state
            received = received or websocket.client_state is not WebSocketState.CONNECTING
            if state is WebSocketState.RESPONSE:
                raise RuntimeError(_RESPONSE_STARTED) from exc
            response = await _call_handler(handler, conn, exc)
            if response is None:
                return
            # The handler gave an HTTP response (the default one for `HTTPException` does):
            # before `accept` it becomes the denial response when the server supports that
            # extension (which allows it once "websocket.connect" has been received);
            # otherwise the connection is closed, which before `accept` means a 403.
            if state is WebSocketState.CONNECTING and _DENIAL_EXTENSION in (scope.get("extensions") or {}):
                if not received and (await receive())["type"] != "websocket.connect":
                    return  # the client left before the handshake completed
                await response(scope, receive, sender)
            elif state is not WebSocketState.DISCONNECTED:
                await sender({"type": "websocket.close", "code": _WS_POLICY_VIOLATION, "reason": ""})

    return wrapped_websocket_app
