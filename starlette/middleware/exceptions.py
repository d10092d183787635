"""`ExceptionMiddleware`: turns handled exceptions (`HTTPException`, `WebSocketException` and
whatever else has a registered handler) into responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette._exception_handler import (
    ExceptionHandlers,
    StatusHandlers,
    call_handling_http_exceptions as _call_handling_http_exceptions,
    wrap_app_handling_exceptions,
)
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket


class ExceptionMiddleware:
    """Dispatch exceptions raised by the wrapped app to handlers registered by exception class
    (the closest class in the exception's MRO wins) or, for `HTTPException`, by status code.

    Handlers get the `Request` (or `WebSocket`) and the exception; an HTTP handler returns the
    response to send, a WebSocket handler usually closes the connection. Exceptions without a
    handler propagate unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug  # kept for compatibility: errors are ServerErrorMiddleware's business
        self._status_handlers: StatusHandlers = {}
        self._exception_handlers: ExceptionHandlers = {
            HTTPException: self.http_exception,
            WebSocketException: self.websocket_exception,
        }
        self._handlers = (self._exception_handlers, self._status_handlers)
        if handlers is not None:
            for key, value in handlers.items():
                self.add_exception_handler(key, value)

    def add_exception_handler(
        self,
        exc_class_or_status_code: int | type[Exception],
        handler: ExceptionHandler,
    ) -> None:
        """Register `handler` for an exception class, or for `HTTPException`s with the given
        status code."""
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
        else:
            self._exception_handlers[exc_class_or_status_code] = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http":
            # The `Request` given to a handler is only built when there is one to call.
            scope["starlette.exception_handlers"] = self._handlers
            await _call_handling_http_exceptions(self.app, scope, receive, send, self._handlers)
        elif scope_type == "websocket":
            conn = WebSocket(scope, receive, send)
            scope["starlette.exception_handlers"] = self._handlers
            await wrap_app_handling_exceptions(self.app, conn)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        """The default `HTTPException` handler: a plain-text response with the exception's
        status code, detail and headers (no body for 204 and 304)."""
        assert isinstance(exc, HTTPException)
        if exc.status_code in {204, 304}:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    async def websocket_exception(self, websocket: WebSocket, exc: Exception) -> None:
        """The default `WebSocketException` handler: close with the exception's code and reason."""
        assert isinstance(exc, WebSocketException)
        await websocket.close(code=exc.code, reason=exc.reason)
