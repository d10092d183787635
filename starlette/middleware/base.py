"""BaseHTTPMiddleware: HTTP middleware written against `Request` and `Response`.

Theory of operation
-------------------
`dispatch(request, call_next)` runs in the task that called the middleware. `call_next(request)`
starts the downstream application in a child task and joins the two through `_Exchange`, a
channel of ASGI messages that holds at most `_CAPACITY` of them:

    downstream app --send--> [at most 2 messages] --> call_next, then the body iterator

`call_next` waits for the first message, `http.response.start` (after an optional
`http.response.debug`), and returns a streaming response whose body iterator pulls the rest of
the messages. Nothing is buffered beyond those two messages: a streaming app is held back at
its next `send` until the body iterator catches up (back-pressure), so each chunk reaches the
client while the app is still producing the following ones. Two rather than one, so that an
ordinary response (start, then the whole body) is handed over without the app waiting once.

The child task. On asyncio it is a plain task (an anyio task group costs tens of microseconds
per request); the middleware call does what a task group would: it waits for the task before
returning, and cancels it if `dispatch` or the response fails, or if the call is cancelled.
Other backends (trio) use an anyio task group. Either way the downstream app runs in a copy of
the context current when `call_next` was called: context variables set in `dispatch` before
`call_next` are seen downstream, those set downstream are not seen upstream (the documented
limitation of this middleware).

Errors. An exception the downstream app raises before it starts its response is re-raised by
`call_next`, so `dispatch` can catch it (and, caught, it is not raised again). One raised after
the response started is re-raised once the response has been sent, so that outer middleware
and the server see it. If the app ends without starting a response, `call_next` raises
RuntimeError("No response returned."). Exceptions come out as themselves, never wrapped in an
exception group.

Receiving. The downstream app reads the request body through `_CachedRequest.wrapped_receive`:
if `dispatch` already read the body (`body()`, `json()`, or `form()`, which then keeps the raw
body), the app is handed the same bytes again; if `dispatch` consumed it with `stream()`, the
app gets an empty body; otherwise the messages pass through (and the middleware's request knows
the stream was consumed), `http.disconnect` included. Once our response has been sent,
downstream `receive()` answers `http.disconnect`, and a `receive()` pending at that moment is
cancelled (through a cancel scope around each one) and answers the same, so an endpoint
streaming until the client leaves stops.

If `dispatch` returns a response of its own and never reads the one from `call_next`, the
channel is closed when our response is done: the downstream app's further sends are dropped and
it runs to completion (its background tasks included) before the middleware call returns.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from starlette._first_to_return import _on_asyncio
from starlette._utils import collapse_excgroups
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "ClientDisconnect"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
BodyStreamGenerator = AsyncGenerator[bytes | MutableMapping[str, Any], None]
AsyncContentStream = AsyncIterable[str | bytes | memoryview | MutableMapping[str, Any]]
T = TypeVar("T")

# Messages the downstream app may have sent and we have not taken yet.
_CAPACITY = 2


class _CachedRequest(Request):
    """The request `dispatch` sees; also the source of the downstream app's `receive`."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        super().__init__(scope, receive)
        self._downstream_disconnected = False
        self._downstream_consumed = False

    async def _get_form(self, *, max_files: int | float, max_fields: int | float, max_part_size: int) -> FormData:
        if self._form is None and not self._stream_consumed:
            # Keep the raw body, so that the downstream app is handed it again.
            await self.body()
        return await super()._get_form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)

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


class _Exchange(ABC):
    """One request through the middleware: the downstream app's task, the channel its messages
    come through, and what `call_next` and the body iterator do with them. Subclasses supply
    the backend-specific parts: starting the app's task, waiting and waking, and `run`."""

    __slots__ = (
        "app",
        "app_done",
        "app_exc",
        "app_exc_raised",
        "closed",
        "messages",
        "receive_scopes",
        "request",
        "scope",
        "started",
    )

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        self.app = app
        self.scope = scope
        self.request = _CachedRequest(scope, receive)
        self.messages: deque[Message] = deque()
        self.app_done = False  # the app has returned: no message will follow those in `messages`
        self.closed = False  # our response is done: the app's sends are dropped, its receives disconnected
        self.receive_scopes: list[anyio.CancelScope] = []
        self.app_exc: Exception | None = None
        self.app_exc_raised = False  # raised by call_next (so not again after the response)
        self.started = False

    # Backend-specific -----------------------------------------------------------------------

    @abstractmethod
    async def run(self, dispatch: DispatchFunction, send: Send) -> None:
        """Call `dispatch`, send its response, and return once the app's task has ended."""
        ...

    @abstractmethod
    def start_app(self) -> None:
        """Start `run_app` in a task of its own."""
        ...

    @abstractmethod
    async def wait(self) -> None:
        """Wait until `wake` is called (by the other side of the channel)."""
        ...

    @abstractmethod
    def wake(self) -> None:
        """Wake the side of the channel that waits, if any. Only one side ever waits: the app
        for room, or we for a message."""
        ...

    # The channel ----------------------------------------------------------------------------

    async def send_downstream(self, message: Message) -> None:
        """The downstream app's `send`."""
        while len(self.messages) >= _CAPACITY and not self.closed:
            await self.wait()
        if self.closed:
            # Our response is done and nobody reads any more: drop what follows. Still a
            # checkpoint, so that an app streaming into the void can be cancelled.
            await anyio.lowlevel.checkpoint()
            return
        self.messages.append(message)
        self.wake()

    async def next_message(self) -> Message | None:
        """The next message from the downstream app; None once it has returned."""
        while not self.messages:
            if self.app_done:
                return None
            await self.wait()
        message = self.messages.popleft()
        self.wake()
        return message

    async def receive_downstream(self) -> Message:
        """The downstream app's `receive`: the request's messages, then `http.disconnect`."""
        if self.closed:
            return {"type": "http.disconnect"}
        scope = anyio.CancelScope()
        self.receive_scopes.append(scope)
        message: Message | None = None
        try:
            with scope:
                message = await self.request.wrapped_receive()
        finally:
            self.receive_scopes.remove(scope)
        if message is None or self.closed:  # cancelled by `finish`, or the message came too late
            return {"type": "http.disconnect"}
        return message

    def finish(self) -> None:
        """Our response has been sent: drop the app's further messages, end its receives."""
        self.closed = True
        self.messages.clear()
        self.wake()
        for scope in self.receive_scopes:
            scope.cancel()

    # The downstream app ---------------------------------------------------------------------

    async def run_app(self) -> None:
        try:
            await self.app(self.scope, self.receive_downstream, self.send_downstream)
        except Exception as exc:
            self.app_exc = exc
        finally:
            self.app_done = True
            self.wake()

    async def call_next(self, request: Request) -> Response:
        if self.started or self.closed:
            raise RuntimeError("call_next() must be called at most once, from dispatch().")
        self.started = True
        self.start_app()

        message = await self.next_message()
        info: Any = None
        if message is not None and message["type"] == "http.response.debug":
            info = message.get("info")
            message = await self.next_message()
        if message is None:
            if self.app_exc is not None:
                self.app_exc_raised = True
                raise self.app_exc
            raise RuntimeError("No response returned.")
        if message["type"] != "http.response.start":
            raise RuntimeError(f"Unexpected message: {message['type']} (expected http.response.start)")

        response = _StreamingResponse(status_code=message["status"], content=self.body_stream(), info=info)
        response.raw_headers = [(bytes(name), bytes(value)) for name, value in message.get("headers", ())]
        return response

    async def body_stream(self) -> BodyStreamGenerator:
        while True:
            message = await self.next_message()
            if message is None:
                return
            message_type = message["type"]
            if message_type == "http.response.body":
                body: bytes = message.get("body", b"")
                if body:
                    yield body
                if not message.get("more_body", False):
                    return
            elif message_type == "http.response.pathsend":
                yield message
                return
            else:
                raise RuntimeError(f"Unexpected message: {message_type}")

    async def respond(self, dispatch: DispatchFunction, send: Send) -> None:
        response = await dispatch(self.request, self.call_next)
        if response is None:
            raise TypeError("dispatch() returned None instead of a response.")
        await response(self.scope, self.request.wrapped_receive, send)
        self.finish()


class _AsyncioExchange(_Exchange):
    """On asyncio: the app runs in a plain task, the channel waits on plain futures."""

    __slots__ = ("task", "waiter")

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        super().__init__(app, scope, receive)
        self.task: asyncio.Task[None] | None = None
        self.waiter: asyncio.Future[None] | None = None

    async def run(self, dispatch: DispatchFunction, send: Send) -> None:
        # What a task group would do: never return before the app's task has ended, cancel it
        # if we fail (or are cancelled).
        try:
            await self.respond(dispatch, send)
        except BaseException:
            task = self.task
            if task is not None and not task.done():
                task.cancel()
                await _join(task)
            raise
        task = self.task
        if task is not None and not task.done():
            await _join(task)

    def start_app(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run_app())

    async def wait(self) -> None:
        waiter = self.waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            if self.waiter is waiter:  # cancelled before being woken
                self.waiter = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            # A waiter cancelled a moment ago is done, though its task has not run yet.
            if not waiter.done():
                waiter.set_result(None)


async def _join(task: asyncio.Task[None]) -> None:
    """Wait for `task` to end, as a task group does: if we are cancelled meanwhile, cancel it,
    still wait for it, then raise the cancellation."""
    cancelled: BaseException | None = None
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError as exc:
            cancelled = exc
            task.cancel()
    if cancelled is not None:
        raise cancelled


class _TaskGroupExchange(_Exchange):
    """On other backends (trio): the app runs in an anyio task group, the channel waits on
    anyio events."""

    __slots__ = ("task_group", "waiter")

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        super().__init__(app, scope, receive)
        self.task_group: TaskGroup | None = None
        self.waiter: anyio.Event | None = None

    async def run(self, dispatch: DispatchFunction, send: Send) -> None:
        with collapse_excgroups():
            async with anyio.create_task_group() as task_group:
                self.task_group = task_group
                await self.respond(dispatch, send)

    def start_app(self) -> None:
        assert self.task_group is not None
        self.task_group.start_soon(self.run_app)

    async def wait(self) -> None:
        waiter = self.waiter = anyio.Event()
        try:
            await waiter.wait()
        finally:
            if self.waiter is waiter:  # cancelled before being woken
                self.waiter = None

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set()


class BaseHTTPMiddleware:
    """HTTP middleware written as `async def dispatch(request, call_next) -> Response`.

    Subclass it and override `dispatch`, or pass `dispatch=` a function. `await
    call_next(request)` runs the rest of the application and returns its response, streamed
    (no `.body`; its `body_iterator` gives the chunks as the application sends them). Return
    it, changed or not, or a response of your own without calling `call_next`.

    The request body may be read in `dispatch` (`body()`, `json()`, `form()`): the application
    is handed the same bytes (the body is then kept in memory). If `dispatch` consumes it with
    `stream()`, the application gets an empty body.

    The application runs in a separate task, in a copy of the context: context variables set in
    `dispatch` before `call_next` are visible downstream, but changes made downstream do not
    propagate back to `dispatch` nor to middleware outside this one. Use pure ASGI middleware
    when they must. WebSocket and lifespan connections pass through untouched.
    """

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        exchange = (_AsyncioExchange if _on_asyncio() else _TaskGroupExchange)(self.app, scope, receive)
        await exchange.run(self.dispatch_func, send)
        if exchange.app_exc is not None and not exchange.app_exc_raised:
            raise exchange.app_exc

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
        if headers is None and media_type is None:
            self.raw_headers = []  # (what init_headers gives, without the work)
        else:
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
