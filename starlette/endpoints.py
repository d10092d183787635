"""Class-based endpoints: `HTTPEndpoint` dispatches on the request method, `WebSocketEndpoint` on events."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any, Literal

from starlette import status
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class HTTPEndpoint:
    """An ASGI app that calls the method named after the lower-cased HTTP method (`get`, `post`, ...).

    Handlers take the `Request` and return a `Response`; they may be `async def` or plain functions (run in
    the thread pool). `HEAD` falls back to `get` when no `head` is defined. Other methods get a 405.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        """Build the `Request`, call the matching handler and send its response."""
        request = Request(self.scope, receive=self.receive)
        handler = self._handler_for(request.method)
        if is_async_callable(handler):
            response = await handler(request)
        else:
            response = await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    def _handler_for(self, method: str) -> Callable[[Request], Any]:
        name = method.lower()
        # Only public attributes a subclass added can be handlers: a request method such as "DISPATCH" or
        # "SCOPE" must not reach the endpoint's own machinery.
        if name.startswith("_") or name in _RESERVED_NAMES:
            return self.method_not_allowed
        handler: Callable[[Request], Any] | None = getattr(self, name, None)
        if handler is None and name == "head":
            handler = getattr(self, "get", None)
        if handler is None or not callable(handler):
            return self.method_not_allowed
        return handler

    def _allowed_methods(self) -> list[str]:
        return [method for method in _HTTP_METHODS if callable(getattr(self, method.lower(), None))]

    async def method_not_allowed(self, request: Request) -> Response:
        """The 405 response; inside a Starlette app it is raised as `HTTPException` so handlers apply."""
        headers = {"Allow": ", ".join(self._allowed_methods())}
        if "app" in self.scope:
            raise HTTPException(status_code=status.HTTP_405_METHOD_NOT_ALLOWED, headers=headers)
        return PlainTextResponse("Method Not Allowed", status_code=status.HTTP_405_METHOD_NOT_ALLOWED, headers=headers)


_RESERVED_NAMES = frozenset(name for name in dir(HTTPEndpoint) if not name.startswith("_")) | {
    "scope",
    "receive",
    "send",
}


class WebSocketEndpoint:
    """An ASGI app that accepts a websocket and turns its messages into `on_connect` / `on_receive` /
    `on_disconnect` calls, decoding each message according to `encoding` ("text", "bytes", "json" or
    None for raw text-or-bytes)."""

    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope = scope
        self.receive = receive
        self.send = send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        """Run the session: `on_connect`, then `on_receive` per message, and always `on_disconnect` at the end."""
        websocket = WebSocket(self.scope, receive=self.receive, send=self.send)
        await self.on_connect(websocket)
        close_code = status.WS_1000_NORMAL_CLOSURE
        try:
            while True:
                message = await websocket.receive()
                message_type = message["type"]
                if message_type == "websocket.receive":
                    data = await self.decode(websocket, message)
                    await self.on_receive(websocket, data)
                elif message_type == "websocket.disconnect":
                    close_code = int(message.get("code") or status.WS_1000_NORMAL_CLOSURE)
                    break
        except Exception:
            close_code = status.WS_1011_INTERNAL_ERROR
            raise
        finally:
            await self.on_disconnect(websocket, close_code)

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        """Turn a `websocket.receive` message into the value passed to `on_receive`.

        Data of the wrong kind closes the connection with 1003 (unsupported data) and raises `RuntimeError`.
        """
        encoding = self.encoding
        text: str | None = message.get("text")
        if encoding == "text":
            if text is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected text websocket messages, but got bytes")
            return text
        data: bytes | None = message.get("bytes")
        if encoding == "bytes":
            if data is None:
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Expected bytes websocket messages, but got text")
            return data
        if encoding == "json":
            try:
                return json.loads(text if text is not None else (data or b"").decode("utf-8"))
            except ValueError:  # JSONDecodeError, and UnicodeDecodeError for binary frames that are not UTF-8
                await websocket.close(code=status.WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("Malformed JSON data received.")
        if encoding is not None:
            raise AssertionError(f"Unsupported 'encoding' attribute {encoding}")
        return text if text is not None else data

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called first; the default accepts the connection. Override to pick a subprotocol or reject."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called with each decoded message."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called once the session ends, with the client's close code (1011 when the endpoint raised)."""
