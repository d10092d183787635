"""`WSGIMiddleware`: serve a WSGI application as an ASGI one (deprecated: use `a2wsgi`).

Theory of operation: the request body is read whole, then the WSGI application runs in a
worker thread (`anyio.to_thread`). Its `start_response` call and each chunk it yields are
turned into ASGI messages and posted from the thread into a memory stream; a task in the event
loop (`sender`) forwards them to the server. The stream is bounded, so a WSGI app producing
output faster than the client reads it waits instead of growing memory. If the server side
fails (the `send` raises), the stream breaks, the thread stops iterating the WSGI response and
the `send` error is what propagates. An `exc_info` passed to `start_response` is re-raised once
the response has been sent; an exception the WSGI application raises propagates once the
output it produced before failing has been delivered.
"""

from __future__ import annotations

import io
import sys
import warnings
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from starlette._utils import collapse_excgroups as _collapse_excgroups
from starlette.types import Receive, Scope, Send

__all__ = ["WSGIMiddleware", "WSGIResponder", "build_environ"]

warnings.warn(
    "starlette.middleware.wsgi is deprecated and will be removed in a future release. "
    "Please refer to https://github.com/abersheeran/a2wsgi as a replacement.",
    DeprecationWarning,
    stacklevel=2,
)

# How many ASGI messages the WSGI thread may run ahead of the client.
_STREAM_BUFFER_SIZE = 16


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """Build the PEP 3333 `environ` of an HTTP request from its ASGI scope and whole body."""
    script_name = scope.get("root_path", "").encode("utf-8").decode("latin-1")
    path_info = scope["path"].encode("utf-8").decode("latin-1")
    if path_info.startswith(script_name):
        path_info = path_info[len(script_name) :]

    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stdout,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }

    # The server name and port are required; `localhost:80` stands in when the server is unknown.
    server = scope.get("server") or ("localhost", 80)
    environ["SERVER_NAME"] = server[0]
    environ["SERVER_PORT"] = server[1]

    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]

    # Headers become HTTP_* variables (Content-Length and Content-Type have their own names);
    # a repeated header is joined with "," as HTTP allows.
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if key in environ:
            value = environ[key] + "," + value
        environ[key] = value
    return environ


class WSGIMiddleware:
    """An ASGI application serving HTTP requests with the WSGI application `app`.

    Deprecated: `a2wsgi` is the maintained replacement.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        responder = WSGIResponder(self.app, scope)
        await responder(receive, send)


class WSGIResponder:
    """Runs the WSGI application for one request and streams its response back."""

    stream_send: MemoryObjectSendStream[MutableMapping[str, Any]]
    stream_receive: MemoryObjectReceiveStream[MutableMapping[str, Any]]

    def __init__(self, app: Callable[..., Any], scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self.status: str | None = None
        self.response_headers: list[tuple[str, str]] | None = None
        streams = anyio.create_memory_object_stream[MutableMapping[str, Any]](_STREAM_BUFFER_SIZE)
        self.stream_send, self.stream_receive = streams
        self.response_started: bool = False
        self.exc_info: Any = None

    async def __call__(self, receive: Receive, send: Send) -> None:
        app_error: Exception | None = None
        try:
            chunks: list[bytes] = []
            more_body = True
            while more_body:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client left before the body was complete: nothing to answer
                chunks.append(message.get("body", b""))
                more_body = message.get("more_body", False)
            environ = build_environ(self.scope, b"".join(chunks))

            with _collapse_excgroups():
                async with anyio.create_task_group() as task_group:
                    task_group.start_soon(self.sender, send)
                    async with self.stream_send:
                        try:
                            await anyio.to_thread.run_sync(self.wsgi, environ, self.start_response)
                        except Exception as exc:
                            # Not raised here, which would cancel the sender: it first delivers
                            # what the application produced before failing (the stream closes).
                            app_error = exc
        finally:
            self.stream_send.close()
            self.stream_receive.close()
        if app_error is not None:
            raise app_error
        if self.exc_info is not None:
            raise self.exc_info[1].with_traceback(self.exc_info[2])

    async def sender(self, send: Send) -> None:
        """Forward the messages posted by the WSGI thread to the server."""
        async with self.stream_receive:
            async for message in self.stream_receive:
                await send(message)

    def start_response(self, status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        """The WSGI `start_response`: posts `http.response.start` (once; a later call, made
        with `exc_info` by an application that failed, only records the error)."""
        self.exc_info = exc_info
        if not self.response_started:
            self.response_started = True
            self.status = status
            self.response_headers = response_headers
            status_code = int(status.split(" ", 1)[0])
            headers = [
                (name.strip().encode("latin-1").lower(), value.strip().encode("latin-1"))
                for name, value in response_headers
            ]
            self._post({"type": "http.response.start", "status": status_code, "headers": headers})

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> None:
        """Run the WSGI application (in the worker thread) and post its body."""
        iterable: Iterable[bytes] = self.app(environ, start_response)
        try:
            for chunk in iterable:
                self._post({"type": "http.response.body", "body": chunk, "more_body": True})
            self._post({"type": "http.response.body", "body": b""})
        except anyio.BrokenResourceError:
            pass  # the sender failed: its error is the one that propagates
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    def _post(self, message: MutableMapping[str, Any]) -> None:
        anyio.from_thread.run(self.stream_send.send, message)
