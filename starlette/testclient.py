"""A synchronous test client for ASGI applications, built on `httpx.Client`.

Theory of operation
-------------------
Tests are plain synchronous code, while the application is async. `TestClient` is an
`httpx.Client` (so cookies, redirects, auth, headers and every request helper come from httpx)
whose transport calls the application in-process. The application always runs in an event-loop
thread owned by an anyio *blocking portal* (`anyio.from_thread.start_blocking_portal`, with
the configured backend: asyncio or trio); the test thread blocks in `portal.call(...)` while the
loop runs the coroutine, and exceptions cross back to the test thread through that call.

* Outside `with TestClient(app)`, each HTTP request and each websocket session starts a
  portal (a fresh event loop) and stops it when done.
* `with TestClient(app) as client:` starts one portal kept in `self.portal` for the whole
  block, runs the ASGI lifespan protocol in it as a long-running task (`lifespan()`): startup
  on enter, shutdown on exit. Requests and websocket sessions made inside the block reuse that
  portal, so they share the event loop of the lifespan (and objects created at startup). The
  lifespan's `scope["state"]` is copied (shallowly) into every request scope.
* Lifespan messages cross between the test thread and the lifespan task through two unbounded
  memory object streams: `stream_send` (test -> app, the app's `receive`) and `stream_receive`
  (app -> test, the app's `send`, plus a final marker telling how the app call ended).
* A websocket session (`WebSocketTestSession`, used as a context manager) runs the application
  as a task of its portal for as long as the `with` block lasts, exchanging messages through a
  pair of memory object streams as well (see `starlette._testclient_websocket`). Its handshake
  goes through httpx first, so client headers, cookies and auth apply to it too.

The HTTP side lives in `starlette._testclient_transport`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import math
import sys
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict, TypeGuard, cast

import anyio
import anyio.from_thread
import httpx
from anyio.streams.stapled import StapledObjectStream
from httpx._client import USE_CLIENT_DEFAULT, UseClientDefault

from starlette._testclient_transport import (
    WEBSOCKET_EXTENSION as _WEBSOCKET_EXTENSION,
    PortalFactory as _PortalFactory,
    _TestClientTransport,
    _Upgrade,
)
from starlette._testclient_websocket import AppEnded as _AppEnded, WebSocketChannel as _WebSocketChannel
from starlette._utils import is_async_callable
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

if sys.version_info >= (3, 11):  # pragma: no cover - the gate runs on 3.11
    from typing import Self
else:  # pragma: no cover - the gate runs on 3.11; older versions take this branch
    from typing_extensions import Self

# An ASGI2 application is called with the scope and returns the instance handling the connection.
ASGIInstance = Callable[[Receive, Send], Awaitable[None]]
ASGI2App = Callable[[Scope], ASGIInstance]
ASGI3App = Callable[[Scope, Receive, Send], Awaitable[None]]

_PortalFactoryType = _PortalFactory
_RequestData = Mapping[str, str | Iterable[str] | bytes]

# A syntactically valid handshake nonce (the sample one from RFC 6455); nothing checks it.
_WEBSOCKET_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def _is_asgi3(app: ASGI2App | ASGI3App) -> TypeGuard[ASGI3App]:
    # A class is an ASGI3 app when its instances are awaitable (constructed with the three ASGI
    # arguments); an ASGI2 app is a class (or sync callable) taking only the scope.
    if isinstance(app, type):
        return hasattr(app, "__await__")
    return is_async_callable(app)


class _WrapASGI2:
    """Present an ASGI2 application (`app(scope)` returning `instance(receive, send)`) as ASGI3."""

    def __init__(self, app: ASGI2App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        instance = self.app(scope)
        await instance(receive, send)


class _AsyncBackend(TypedDict):
    backend: str
    backend_options: dict[str, Any]


class _LifespanEnded:
    """Marker sent by `TestClient.lifespan()` once the application's lifespan call finished."""

    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class WebSocketDenialResponse(  # type: ignore[misc]  # httpx.Response and BaseException disagree on __setstate__
    httpx.Response,
    WebSocketDisconnect,
):
    """Raised by `websocket_connect()` when the application rejects the handshake with an HTTP
    response (the "websocket.http.response" extension): it is that response, and a
    `WebSocketDisconnect`."""


def _denial_response(status_code: int, headers: list[tuple[bytes, bytes]], content: bytes) -> WebSocketDenialResponse:
    response = WebSocketDenialResponse(status_code=status_code, headers=headers, content=content)
    WebSocketDisconnect.__init__(response)  # httpx.Response.__init__ does not chain to it
    return response


class WebSocketTestSession:
    """A websocket connection to the application, driven synchronously from the test.

    Use it as a context manager (`with client.websocket_connect("/ws") as websocket:`): entering
    performs the handshake, leaving closes the connection and waits for the application.
    """

    portal: anyio.from_thread.BlockingPortal
    exit_stack: contextlib.ExitStack[bool | None]

    def __init__(self, app: ASGI3App, scope: Scope, portal_factory: _PortalFactoryType) -> None:
        self.app = app
        self.scope = scope
        self.portal_factory = portal_factory
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] | None = None
        self._client_closed = False
        self._app_ended = False
        self._error_raised = False
        self._close_message: Message | None = None

    def __enter__(self) -> WebSocketTestSession:
        with contextlib.ExitStack() as stack:
            self.portal = portal = stack.enter_context(self.portal_factory())
            self._channel = channel = _WebSocketChannel(self.app, self.scope)
            self._task, _ = portal.start_task(channel.run)
            stack.callback(self._finish)
            self.send({"type": "websocket.connect"})
            message = self._receive_message()
            message_type = message["type"]
            if message_type == "websocket.close":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
            if message_type == "websocket.http.response.start":
                raise self._receive_denial_response(message)
            if message_type != "websocket.accept":
                raise RuntimeError(
                    'Expected ASGI message "websocket.accept", "websocket.close" or '
                    f'"websocket.http.response.start", but got {message_type!r}.'
                )
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = list(message.get("headers", ()))
            self.exit_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> bool | None:
        self.exit_stack.close()
        return None

    def _finish(self) -> None:
        self.portal.call(self._channel.shutdown, not self._client_closed)
        self._task.result()  # surfaces a BaseException the channel does not catch
        error = self._channel.error
        if error is not None and not self._error_raised:
            self._error_raised = True
            raise error

    def _receive_message(self) -> Message:
        if not self._app_ended:
            item = self.portal.call(self._channel.receive)
            if not isinstance(item, _AppEnded):
                return item
            self._app_ended = True
            if item.error is not None:
                self._error_raised = True
                raise item.error
        # The application is gone: the connection is closed, with the app's close code if it sent one.
        close = self._close_message or {}
        raise WebSocketDisconnect(close.get("code", 1000), close.get("reason", ""))

    def _receive_denial_response(self, start: Message) -> WebSocketDenialResponse:
        body: list[bytes] = []
        while True:
            try:
                message = self._receive_message()
            except WebSocketDisconnect:
                break  # the app returned before finishing the body
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError(
                    f'Expected ASGI message "websocket.http.response.body", but got {message["type"]!r}.'
                )
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = [(bytes(name), bytes(value)) for name, value in start.get("headers", ())]
        return _denial_response(start["status"], headers, b"".join(body))

    def send(self, message: Message) -> None:
        """Send a raw ASGI message (e.g. `{"type": "websocket.receive", "text": "..."}`) to the app."""
        if message["type"] == "websocket.disconnect":
            self._client_closed = True
        self.portal.call(self._channel.send, message)

    def send_text(self, data: str) -> None:
        """Send a text frame."""
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send `data` encoded as JSON, in a text frame or (`mode="binary"`) a binary one."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send({"type": "websocket.receive", "text": text})
        else:
            self.send({"type": "websocket.receive", "bytes": text.encode("utf-8")})

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the client side (the app receives `websocket.disconnect`)."""
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """Wait for the next message sent by the application, as the raw ASGI message.

        The application's `websocket.close` message is returned as it is; once the application
        is gone, `WebSocketDisconnect` (with its close code and reason) is raised, and the
        application's exception is re-raised if it failed.
        """
        message = self._receive_message()
        if message["type"] == "websocket.close":
            self._close_message = message
        return message

    def _receive_frame(self) -> Message:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
        return message

    def receive_text(self) -> str:
        """Wait for a text frame from the application and return its text.

        Raises `WebSocketDisconnect` when the application closed the connection instead."""
        message = self._receive_frame()
        return cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        """Wait for a binary frame from the application and return its bytes.

        Raises `WebSocketDisconnect` when the application closed the connection instead."""
        message = self._receive_frame()
        return cast(bytes, message["bytes"])

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """Wait for a frame (text, or binary with `mode="binary"`) and decode it as JSON.

        Raises `WebSocketDisconnect` when the application closed the connection instead."""
        message = self._receive_frame()
        if mode == "text":
            return json.loads(message["text"])
        return json.loads(message["bytes"].decode("utf-8"))


class TestClient(httpx.Client):
    """An `httpx.Client` that sends its requests to an ASGI application, in-process.

    Use it as a context manager to also run the application's lifespan (startup on enter,
    shutdown on exit).
    """

    __test__ = False  # not a pytest test class
    portal: anyio.from_thread.BlockingPortal | None = None
    # Set while the client is used as a context manager (see `__enter__`).
    stream_send: StapledObjectStream[Message]
    stream_receive: StapledObjectStream[Message | _LifespanEnded]
    task: concurrent.futures.Future[None]
    exit_stack: contextlib.ExitStack[bool | None]

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        backend: Literal["asyncio", "trio"] = "asyncio",
        backend_options: dict[str, Any] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = True,
        client: tuple[str, int] = ("testclient", 50000),
    ) -> None:
        self.async_backend: _AsyncBackend = _AsyncBackend(backend=backend, backend_options=backend_options or {})
        asgi_app: ASGI3App
        if _is_asgi3(app):
            asgi_app = app
        else:
            asgi_app = _WrapASGI2(cast(ASGI2App, app))
        self.app = asgi_app
        self.app_state: dict[str, Any] = {}
        transport = _TestClientTransport(
            self.app,
            portal_factory=self._portal_factory,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            app_state=self.app_state,
        )
        client_headers = httpx.Headers(headers)
        client_headers.setdefault("user-agent", "testclient")
        super().__init__(
            base_url=base_url,
            headers=client_headers,
            transport=transport,
            follow_redirects=follow_redirects,
            cookies=cookies,
        )

    @contextlib.contextmanager
    def _portal_factory(self) -> Generator[anyio.from_thread.BlockingPortal, None, None]:
        if self.portal is not None:
            yield self.portal
        else:
            with anyio.from_thread.start_blocking_portal(**self.async_backend) as portal:
                yield portal

    def request(
        self,
        method: str,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: _RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a request to the application (see `httpx.Client.request`)."""
        if timeout is not USE_CLIENT_DEFAULT:
            warnings.warn(
                "The 'timeout' argument has no effect with the TestClient: the application runs in-process.",
                DeprecationWarning,
                stacklevel=2,
            )
        return super().request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def get(
        self,
        url: httpx._types.URLTypes,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a GET request to the application."""
        return self.request(
            "GET",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def options(
        self,
        url: httpx._types.URLTypes,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a OPTIONS request to the application."""
        return self.request(
            "OPTIONS",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def head(
        self,
        url: httpx._types.URLTypes,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a HEAD request to the application."""
        return self.request(
            "HEAD",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def post(
        self,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: _RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a POST request to the application."""
        return self.request(
            "POST",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def put(
        self,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: _RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a PUT request to the application."""
        return self.request(
            "PUT",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def patch(
        self,
        url: httpx._types.URLTypes,
        *,
        content: httpx._types.RequestContent | None = None,
        data: _RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a PATCH request to the application."""
        return self.request(
            "PATCH",
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def delete(
        self,
        url: httpx._types.URLTypes,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        """Send a DELETE request to the application."""
        return self.request(
            "DELETE",
            url,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )

    def websocket_connect(
        self, url: str, subprotocols: Sequence[str] | None = None, **kwargs: Any
    ) -> WebSocketTestSession:
        """Prepare a websocket session with the application; use the result in a `with` block.

        `kwargs` are those of `httpx.Client.get()` (headers, cookies, auth, ...). Entering the
        session may raise `WebSocketDisconnect` (the app closed instead of accepting) or
        `WebSocketDenialResponse` (the app answered with an HTTP response).
        """
        headers = httpx.Headers(kwargs.pop("headers", None))
        headers.setdefault("connection", "upgrade")
        headers.setdefault("upgrade", "websocket")
        headers.setdefault("sec-websocket-key", _WEBSOCKET_KEY)
        headers.setdefault("sec-websocket-version", "13")
        if subprotocols is not None:
            headers["sec-websocket-protocol"] = ", ".join(subprotocols)
        extensions = dict(kwargs.pop("extensions", None) or {})
        extensions[_WEBSOCKET_EXTENSION] = True
        try:
            self.request("GET", url, headers=headers, extensions=extensions, **kwargs)
        except _Upgrade as upgrade:
            return WebSocketTestSession(self.app, upgrade.scope, self._portal_factory)
        raise RuntimeError("Expected a websocket upgrade.")

    def __enter__(self) -> Self:
        with contextlib.ExitStack() as stack:
            to_app_send, to_app_receive = anyio.create_memory_object_stream[Message](math.inf)
            from_app_send, from_app_receive = anyio.create_memory_object_stream[Message | _LifespanEnded](math.inf)
            for stream in (to_app_send, to_app_receive, from_app_send, from_app_receive):
                stack.enter_context(stream)  # closed last, once the event loop is gone
            self.stream_send = StapledObjectStream(to_app_send, to_app_receive)
            self.stream_receive = StapledObjectStream(from_app_send, from_app_receive)
            self.portal = portal = stack.enter_context(anyio.from_thread.start_blocking_portal(**self.async_backend))

            @stack.callback
            def reset_portal() -> None:
                self.portal = None

            self._lifespan_running = True
            self.task = portal.start_task_soon(self.lifespan)
            portal.call(self.wait_startup)
            self.exit_stack = stack.pop_all()
        return self

    def __exit__(self, *args: Any) -> None:
        with self.exit_stack:
            assert self.portal is not None
            self.portal.call(self.wait_shutdown)

    async def lifespan(self) -> None:
        """Run the application's lifespan call (a task of the client's portal)."""
        scope = {"type": "lifespan", "state": self.app_state, "asgi": {"version": "3.0", "spec_version": "2.0"}}
        error: Exception | None = None
        try:
            with anyio.CancelScope() as self._lifespan_scope:
                await self.app(scope, self.stream_send.receive, self.stream_receive.send)
        except Exception as exc:
            error = exc
        await self.stream_receive.send(_LifespanEnded(error))

    async def wait_startup(self) -> None:
        """Send `lifespan.startup` and wait for the application to complete (or fail) it."""
        await self.stream_send.send({"type": "lifespan.startup"})
        message = await self.stream_receive.receive()
        if isinstance(message, _LifespanEnded):
            # ASGI: an app that ends (even raising) without answering does not support lifespan.
            self._lifespan_running = False
            return
        await self._check_lifespan_reply(message, "startup")

    async def wait_shutdown(self) -> None:
        """Send `lifespan.shutdown` and wait for the application to complete it and return."""
        if not self._lifespan_running:
            return
        await self.stream_send.send({"type": "lifespan.shutdown"})
        message = await self.stream_receive.receive()
        if isinstance(message, _LifespanEnded):
            self._lifespan_running = False
            if message.error is not None:
                raise message.error
            return
        await self._check_lifespan_reply(message, "shutdown")
        ended = await self._wait_lifespan_end()
        if ended is not None and ended.error is not None:
            raise ended.error

    async def _check_lifespan_reply(self, message: Message, phase: str) -> None:
        message_type = message["type"]
        if message_type == f"lifespan.{phase}.failed":
            ended = await self._wait_lifespan_end()
            if ended is not None and ended.error is not None:
                raise ended.error
            raise RuntimeError(message.get("message", "") or f"Lifespan {phase} failed.")
        if message_type != f"lifespan.{phase}.complete":
            raise RuntimeError(
                f'Expected ASGI message "lifespan.{phase}.complete" or "lifespan.{phase}.failed", '
                f"but got {message_type!r}."
            )

    async def _wait_lifespan_end(self) -> _LifespanEnded | None:
        # After its final reply the application is expected to return (or raise, which is what
        # we want to report). One that stays blocked instead is cancelled, and None returned.
        ended: _LifespanEnded | None = None
        async with anyio.create_task_group() as task_group:

            async def cancel_when_stuck() -> None:
                await anyio.wait_all_tasks_blocked()
                task_group.cancel_scope.cancel()

            task_group.start_soon(cancel_when_stuck)
            while ended is None:
                message = await self.stream_receive.receive()
                if isinstance(message, _LifespanEnded):
                    ended = message
            task_group.cancel_scope.cancel()
        self._lifespan_running = False
        if ended is None:
            self._lifespan_scope.cancel()
        return ended
