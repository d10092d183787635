"""The httpx transport behind `TestClient`: turns an `httpx.Request` into an ASGI call.

Theory of operation
-------------------
`httpx.Client.send()` runs in the test's thread and hands each request to
`_TestClientTransport.handle_request()`. That method builds the ASGI scope from the request
(no network involved), reads the request body into memory in the test thread, and then runs the
application inside an anyio blocking portal: `portal.call(exchange.run)` executes the coroutine
in the portal's event-loop thread and blocks the test thread until it returns (or re-raises
what it raised). The portal is the `TestClient`'s long-lived one inside `with TestClient(...)`
(so requests share the lifespan's event loop), otherwise a fresh one per request.

All ASGI messages of one request live in an `_HTTPExchange`, which is only touched from the
event-loop thread while the app runs; the test thread reads its results after `portal.call()`
returned, so no locking is needed.

WebSocket handshakes travel through httpx too (so auth, cookies and default headers apply):
the transport recognises them by a request extension set by `TestClient.websocket_connect()`
and raises `_Upgrade` carrying the websocket scope; `websocket_connect()` catches it and
builds the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, cast
from urllib.parse import quote

import anyio
import anyio.from_thread
import httpx

from starlette.types import ASGIApp, Message, Scope

PortalFactory = Callable[[], AbstractContextManager[anyio.from_thread.BlockingPortal]]

# Request extension key marking a websocket handshake made by `TestClient.websocket_connect()`.
WEBSOCKET_EXTENSION = "starlette.testclient.websocket"

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
_EMPTY_BODY: list[bytes] = [b""]


class _Upgrade(Exception):
    """Raised by the transport on a websocket handshake to hand the scope back to the client."""

    def __init__(self, scope: Scope) -> None:
        super().__init__(scope)
        self.scope = scope


class _HTTPExchange:
    """One HTTP request/response cycle, as seen from the event-loop thread."""

    __slots__ = (
        "app",
        "scope",
        "chunks",
        "next_chunk",
        "keep_body",
        "raise_server_exceptions",
        "response_complete",
        "status_code",
        "headers",
        "body",
        "template",
        "context",
        "debug_received",
        "app_raised",
    )

    def __init__(
        self, app: ASGIApp, scope: Scope, chunks: list[bytes], keep_body: bool, raise_server_exceptions: bool
    ) -> None:
        self.app = app
        self.scope = scope
        self.chunks = chunks
        self.next_chunk = 0
        self.keep_body = keep_body
        self.raise_server_exceptions = raise_server_exceptions
        self.status_code: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.template: Any = None
        self.context: Any = None
        self.debug_received = False
        self.app_raised = False

    async def run(self) -> None:
        # The event must be created inside the event loop it will be awaited in.
        self.response_complete = anyio.Event()
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if self.raise_server_exceptions:
                raise
            self.app_raised = True
        finally:
            self.response_complete.set()

    async def receive(self) -> Message:
        index = self.next_chunk
        chunks = self.chunks
        if index < len(chunks):
            self.next_chunk = index + 1
            return {"type": "http.request", "body": chunks[index], "more_body": index + 1 < len(chunks)}
        # The whole body was delivered: the next event is the client going away, which happens
        # once the response is complete (this is what disconnect listeners wait for).
        if not self.response_complete.is_set():  # waiting on a set event would still yield
            await self.response_complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        message_type = message["type"]
        if message_type == "http.response.start":
            if self.status_code is not None:
                raise RuntimeError('The application sent "http.response.start" twice.')
            self.status_code = message["status"]
            self.headers = [(bytes(name), bytes(value)) for name, value in message.get("headers", ())]
        elif message_type == "http.response.body":
            if self.status_code is None:
                raise RuntimeError('The application sent "http.response.body" before "http.response.start".')
            if self.response_complete.is_set():
                return  # ASGI: messages after the final body are ignored
            body = message.get("body", b"")
            if body and self.keep_body:
                self.body.append(bytes(body))
            if not message.get("more_body", False):
                self.response_complete.set()
        elif message_type == "http.response.debug":
            info = message.get("info", {})
            self.template = info.get("template")
            self.context = info.get("context")
            self.debug_received = True


class _TestClientTransport(httpx.BaseTransport):
    """Serve httpx requests by calling the ASGI application in-process."""

    def __init__(
        self,
        app: ASGIApp,
        portal_factory: PortalFactory,
        raise_server_exceptions: bool,
        root_path: str,
        client: tuple[str, int],
        app_state: dict[str, Any],
    ) -> None:
        self.app = app
        self.portal_factory = portal_factory
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        self.client = client
        self.app_state = app_state

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        port = url.port
        if port is None:
            port = _DEFAULT_PORTS.get(scheme, 80)
        raw_path = url.raw_path
        query_index = raw_path.find(b"?")
        if query_index >= 0:
            raw_path = raw_path[:query_index]
        path = url.path
        root_path = self.root_path
        if root_path and not (path == root_path or path.startswith(root_path.rstrip("/") + "/")):
            # As a server behind a proxy that strips the prefix: per the ASGI spec `path`
            # includes `root_path`. A request already under the root path is left as it is.
            path = root_path.rstrip("/") + path
            raw_path = quote(root_path.rstrip("/")).encode("ascii") + raw_path
        # httpx puts the Host header first; ASGI wants lowercase header names.
        headers = [(name.lower(), value) for name, value in request.headers.raw]
        scope: Scope = {
            "path": path,
            "raw_path": raw_path,
            "root_path": self.root_path,
            "query_string": url.query,
            "headers": headers,
            "client": self.client,
            "server": [url.host, port],
            "state": self.app_state.copy(),
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
        }

        if WEBSOCKET_EXTENSION in request.extensions:
            scope["type"] = "websocket"
            scope["scheme"] = _WEBSOCKET_SCHEMES.get(scheme, scheme)
            protocols = request.headers.get("sec-websocket-protocol")
            scope["subprotocols"] = (
                [value.strip() for value in protocols.split(",") if value.strip()] if protocols else []
            )
            scope["extensions"] = {"websocket.http.response": {}}
            raise _Upgrade(scope)

        scope["type"] = "http"
        scope["method"] = request.method
        scope["scheme"] = scheme
        scope["extensions"] = {"http.response.debug": {}}

        # The sync client only ever builds sync streams; read the body here, in the test thread.
        chunks = [bytes(chunk) for chunk in cast(Iterable[bytes], request.stream) if chunk] or _EMPTY_BODY
        exchange = _HTTPExchange(self.app, scope, chunks, request.method != "HEAD", self.raise_server_exceptions)
        with self.portal_factory() as portal:
            portal.call(exchange.run)

        if exchange.status_code is None:
            # Like a server: no response at all is a 500, unless the test asked to be told.
            if exchange.app_raised or not self.raise_server_exceptions:
                return httpx.Response(500, request=request)
            raise AssertionError("TestClient did not receive any response.")

        extensions: dict[str, Any] = {}
        if exchange.debug_received:
            extensions["template"] = exchange.template
            extensions["context"] = exchange.context
        response = httpx.Response(
            status_code=exchange.status_code,
            headers=exchange.headers,
            stream=httpx.ByteStream(b"".join(exchange.body)),
            request=request,
            extensions=extensions,
        )
        if exchange.debug_received:
            # Starlette users read these as plain attributes of the response.
            response.template = exchange.template  # type: ignore[attr-defined]  # dynamic attribute by design
            response.context = exchange.context  # type: ignore[attr-defined]  # dynamic attribute by design
        return response
