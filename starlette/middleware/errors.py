"""`ServerErrorMiddleware`: the outermost layer, which answers unhandled errors with a 500
(a traceback page in debug mode) and then re-raises them so that the server logs them."""

from __future__ import annotations

import html
import inspect
import traceback
from collections.abc import Callable
from typing import Any

from starlette._debug_page import (
    CENTER_LINE as CENTER_LINE,
    FRAME_TEMPLATE as FRAME_TEMPLATE,
    JS as JS,
    LINE as LINE,
    STYLES as STYLES,
    TEMPLATE as TEMPLATE,
)
from starlette._exception_handler import track_response_start as _track_response_start
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, ExceptionHandler, Message as Message, Receive, Scope, Send


def _exception_type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


class ServerErrorMiddleware:
    """Send a 500 response when the wrapped app raises, unless the response has already
    started, then re-raise the exception.

    With `debug=True` the response is a traceback (an HTML page for clients that accept
    `text/html`, plain text otherwise). Else `handler(request, exc)` gives the response (it runs
    even when the response has started, so it can log the error; its response is then
    dropped), or it is a plain "Internal Server Error". Only HTTP requests get a response:
    other scopes pass through untouched.
    """

    def __init__(self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        sender = _track_response_start(send)
        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            response_started = sender.started
            request = Request(scope)
            response: Response | None = None
            if self.debug:
                if not response_started:
                    response = self.debug_response(request, exc)
            elif self.handler is None:
                if not response_started:
                    response = self.error_response(request, exc)
            else:
                # Runs even once the response has started, so that the handler can log.
                handler: Callable[[Any, Exception], Any] = self.handler
                if is_async_callable(handler):
                    response = await handler(request, exc)
                else:
                    response = await run_in_threadpool(handler, request, exc)
            if response is not None and not response_started:
                await response(scope, receive, send)
            # Errors always reach the server, which logs them.
            raise

    def format_line(self, index: int, line: str, frame_lineno: int, frame_index: int) -> str:
        """One source line of a frame's context; the line being executed (`index ==
        frame_index`) is highlighted."""
        values = {
            "line": html.escape(line.rstrip("\r\n")).replace(" ", "&nbsp;"),
            "lineno": frame_lineno - frame_index + index,
        }
        if index != frame_index:
            return LINE.format(**values)
        return CENTER_LINE.format(**values)

    def generate_frame_html(self, frame: inspect.FrameInfo, is_collapsed: bool) -> str:
        """The HTML block of one traceback frame: location and source context."""
        code_context = "".join(
            self.format_line(index, line, frame.lineno, frame.index or 0)
            for index, line in enumerate(frame.code_context or [])
        )
        return FRAME_TEMPLATE.format(
            frame_filename=html.escape(frame.filename),
            frame_lineno=frame.lineno,
            frame_name=html.escape(frame.function),
            frame_id=f"frame-{id(frame)}",
            collapse_button="+" if is_collapsed else "&#8210;",
            collapsed=" collapsed" if is_collapsed else "",
            code_context=code_context,
        )

    def generate_html(self, exc: Exception, limit: int = 7) -> str:
        """The debug page: exception type and message, then the traceback frames, most
        recent first (the others collapsed), each with `limit` lines of source context."""
        frames = inspect.getinnerframes(exc.__traceback__, limit) if exc.__traceback__ is not None else []
        exc_html = "".join(
            self.generate_frame_html(frame, is_collapsed=position > 0)
            for position, frame in enumerate(reversed(frames))
        )
        message = str(exc)
        error = html.escape(_exception_type_name(exc))
        if message:
            error = f"{error}: {html.escape(message)}"
        return TEMPLATE.format(styles=STYLES, js=JS, error=error, exc_html=exc_html)

    def generate_plain_text(self, exc: Exception) -> str:
        """The traceback as the interpreter prints it, chained exceptions included."""
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def debug_response(self, request: Request, exc: Exception) -> Response:
        """The 500 response of debug mode: the HTML page when the client accepts `text/html`,
        the plain-text traceback otherwise."""
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(self.generate_html(exc), status_code=500)
        return PlainTextResponse(self.generate_plain_text(exc), status_code=500)

    def error_response(self, request: Request, exc: Exception) -> Response:
        """The 500 response outside debug mode when no handler is installed."""
        return PlainTextResponse("Internal Server Error", status_code=500)
