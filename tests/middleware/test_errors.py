"""`ServerErrorMiddleware`: 500 responses, the debug traceback page, and re-raising."""

from __future__ import annotations

import html
import inspect
import threading
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware.errors import CENTER_LINE, LINE, ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tests._server import run_uvicorn
from tests.types import TestClientFactory


class Channel:
    """The server side of one connection: queued incoming messages, recorded outgoing ones."""

    def __init__(self, incoming: Sequence[Message] = ()) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def http_scope(headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "GET", "path": "/", "headers": headers or [], "query_string": b""}


class CustomError(Exception):
    pass


async def broken_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("Something went wrong")


async def app_failing_mid_response(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise RuntimeError("Something went wrong")


def raise_custom(message: str) -> None:
    raise CustomError(message)


def caught(message: str = "boom") -> CustomError:
    with pytest.raises(CustomError) as info:
        raise_custom(message)
    return info.value


# --- responses ------------------------------------------------------------------------------


def test_default_error_response(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ServerErrorMiddleware(broken_app), raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_exception_is_reraised_to_the_server(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ServerErrorMiddleware(broken_app))
    with pytest.raises(RuntimeError, match="Something went wrong"):
        client.get("/")


def test_async_handler(test_client_factory: TestClientFactory) -> None:
    seen: list[tuple[str, str]] = []

    async def handler(request: Request, exc: Exception) -> Response:
        seen.append((request.url.path, str(exc)))
        return JSONResponse({"detail": "custom"}, status_code=500)

    client = test_client_factory(ServerErrorMiddleware(broken_app, handler=handler), raise_server_exceptions=False)
    response = client.get("/some/path")
    assert response.status_code == 500
    assert response.json() == {"detail": "custom"}
    assert seen == [("/some/path", "Something went wrong")]


def test_sync_handler_runs_in_a_thread(test_client_factory: TestClientFactory) -> None:
    threads: list[threading.Thread] = []

    def handler(request: Request, exc: Exception) -> Response:
        threads.append(threading.current_thread())
        return PlainTextResponse("sync handler", status_code=503)

    client = test_client_factory(ServerErrorMiddleware(broken_app, handler=handler), raise_server_exceptions=False)
    response = client.get("/")
    assert (response.status_code, response.text) == (503, "sync handler")
    assert len(threads) == 1


def test_handler_response_is_sent_and_exception_still_reraised(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    async def handler(request: Request, exc: Exception) -> Response:
        calls.append("handler")
        return PlainTextResponse("handled", status_code=500)

    client = test_client_factory(ServerErrorMiddleware(broken_app, handler=handler))
    with pytest.raises(RuntimeError, match="Something went wrong"):
        client.get("/")
    assert calls == ["handler"]


def test_debug_plain_text_traceback(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ServerErrorMiddleware(broken_app, debug=True), raise_server_exceptions=False)
    response = client.get("/", headers={"accept": "application/json"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Traceback (most recent call last):")
    assert "in broken_app" in response.text
    assert response.text.endswith("RuntimeError: Something went wrong\n")


def test_debug_html_page_when_html_is_accepted(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ServerErrorMiddleware(broken_app, debug=True), raise_server_exceptions=False)
    response = client.get("/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Starlette Debugger</title>" in response.text
    assert "<h2>RuntimeError: Something went wrong</h2>" in response.text
    assert "<b>broken_app</b>" in response.text
    assert "Something&nbsp;went&nbsp;wrong" in response.text  # the source line of the raise


def test_debug_page_escapes_the_exception_message(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("<script>alert('x')</script>")

    client = test_client_factory(ServerErrorMiddleware(app, debug=True), raise_server_exceptions=False)
    page = client.get("/", headers={"accept": "text/html"}).text
    assert "<script>alert" not in page
    assert "ValueError: &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    # The plain-text traceback is not HTML, so it is not escaped.
    text = client.get("/").text
    assert "ValueError: <script>alert('x')</script>" in text


def test_debug_takes_precedence_over_the_handler(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    async def handler(request: Request, exc: Exception) -> Response:
        calls.append("handler")  # pragma: no cover - must not run
        return PlainTextResponse("handler")  # pragma: no cover - must not run

    client = test_client_factory(
        ServerErrorMiddleware(broken_app, handler=handler, debug=True), raise_server_exceptions=False
    )
    response = client.get("/")
    assert response.status_code == 500
    assert "RuntimeError: Something went wrong" in response.text
    assert calls == []


@pytest.mark.parametrize("debug", [False, True])
def test_no_error_response_once_the_response_started(test_client_factory: TestClientFactory, debug: bool) -> None:
    client = test_client_factory(ServerErrorMiddleware(app_failing_mid_response, debug=debug))
    with pytest.raises(RuntimeError, match="Something went wrong"):
        client.get("/")


def test_app_without_error_is_untouched(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ServerErrorMiddleware(PlainTextResponse("fine", status_code=201), debug=True))
    response = client.get("/")
    assert (response.status_code, response.text) == (201, "fine")


# --- raw ASGI -------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("debug", [False, True])
async def test_error_after_response_started_sends_nothing_more(debug: bool) -> None:
    channel = Channel()
    with pytest.raises(RuntimeError, match="Something went wrong"):
        await ServerErrorMiddleware(app_failing_mid_response, debug=debug)(http_scope(), channel.receive, channel.send)
    assert [m["type"] for m in channel.sent] == ["http.response.start", "http.response.body"]
    assert channel.sent[1]["more_body"] is True


@pytest.mark.anyio
async def test_handler_runs_even_after_response_started_but_its_response_is_dropped() -> None:
    seen: list[Exception] = []

    async def handler(request: Request, exc: Exception) -> Response:
        seen.append(exc)
        return PlainTextResponse("too late", status_code=500)

    channel = Channel()
    with pytest.raises(RuntimeError) as info:
        await ServerErrorMiddleware(app_failing_mid_response, handler=handler)(
            http_scope(), channel.receive, channel.send
        )
    assert seen == [info.value]
    assert [m.get("body") for m in channel.sent] == [None, b"partial"]


@pytest.mark.anyio
async def test_handler_returning_none_sends_nothing() -> None:
    async def handler(request: Request, exc: Exception) -> None:
        return None

    channel = Channel()
    middleware = ServerErrorMiddleware(broken_app, handler=handler)  # type: ignore[arg-type]  # None is tolerated
    with pytest.raises(RuntimeError):
        await middleware(http_scope(), channel.receive, channel.send)
    assert channel.sent == []


@pytest.mark.anyio
async def test_exception_raised_by_the_handler_propagates() -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        raise LookupError("handler failed")

    channel = Channel()
    with pytest.raises(LookupError) as info:
        await ServerErrorMiddleware(broken_app, handler=handler)(http_scope(), channel.receive, channel.send)
    assert isinstance(info.value.__context__, RuntimeError)
    assert channel.sent == []


@pytest.mark.anyio
@pytest.mark.parametrize("debug", [False, True])
async def test_websocket_errors_pass_through_without_a_response(debug: bool) -> None:
    calls: list[str] = []

    async def handler(request: Request, exc: Exception) -> Response:
        calls.append("handler")  # pragma: no cover - must not run
        return PlainTextResponse("no")  # pragma: no cover - must not run

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise RuntimeError("websocket failure")

    channel = Channel([{"type": "websocket.connect"}])
    scope: Scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    with pytest.raises(RuntimeError, match="websocket failure"):
        await ServerErrorMiddleware(app, handler=handler, debug=debug)(scope, channel.receive, channel.send)
    assert channel.sent == [{"type": "websocket.accept"}]
    assert calls == []


@pytest.mark.anyio
async def test_lifespan_passes_through() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})

    channel = Channel([{"type": "lifespan.startup"}])
    await ServerErrorMiddleware(app, debug=True)({"type": "lifespan"}, channel.receive, channel.send)
    assert channel.sent == [{"type": "lifespan.startup.complete"}]


def test_attributes() -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("x")  # pragma: no cover - never called

    middleware = ServerErrorMiddleware(broken_app, handler=handler, debug=True)
    assert middleware.app is broken_app
    assert middleware.handler is handler
    assert middleware.debug is True
    default = ServerErrorMiddleware(broken_app)
    assert (default.handler, default.debug) == (None, False)


def test_error_response_and_debug_response_directly() -> None:
    exc = caught("direct")
    middleware = ServerErrorMiddleware(broken_app)
    plain = middleware.error_response(Request(http_scope()), exc)
    assert (plain.status_code, plain.body) == (500, b"Internal Server Error")

    page = middleware.debug_response(Request(http_scope([(b"accept", b"text/html")])), exc)
    assert page.status_code == 500
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b"CustomError: direct" in page.body

    text = middleware.debug_response(Request(http_scope()), exc)
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert bytes(text.body).decode() == middleware.generate_plain_text(exc)


# --- the traceback page ---------------------------------------------------------------------


def test_format_line_highlights_the_current_line_and_numbers_the_context() -> None:
    middleware = ServerErrorMiddleware(broken_app)
    # Context starting at line 8 (frame line 10 is index 2 of the context).
    assert middleware.format_line(0, "    x = 1\n", 10, 2) == LINE.format(
        lineno=8, line="&nbsp;&nbsp;&nbsp;&nbsp;x&nbsp;=&nbsp;1"
    )
    assert middleware.format_line(2, "raise E('<b>')\n", 10, 2) == CENTER_LINE.format(
        lineno=10, line="raise&nbsp;E(&#x27;&lt;b&gt;&#x27;)"
    )
    assert 'class="center-line"' in middleware.format_line(2, "x", 10, 2)
    assert 'class="center-line"' not in middleware.format_line(3, "x", 10, 2)


def test_generate_frame_html_escapes_location_and_collapses() -> None:
    middleware = ServerErrorMiddleware(broken_app)
    frame = inspect.FrameInfo(None, "<dir>/a&b.py", 3, "<lambda>", ["one\n", "two\n", "three\n"], 1)  # type: ignore[arg-type]  # no frame object is needed
    expanded = middleware.generate_frame_html(frame, is_collapsed=False)
    assert "&lt;dir&gt;/a&amp;b.py" in expanded
    assert "&lt;lambda&gt;" in expanded
    assert "<i>3</i>" in expanded
    assert expanded.count('class="center-line"') == 1
    assert '<span class="lineno">2.</span> one' in expanded
    assert '<span class="lineno">3.</span> two' in expanded
    assert '<span class="lineno">4.</span> three' in expanded
    assert "collapsed" not in expanded
    collapsed = middleware.generate_frame_html(frame, is_collapsed=True)
    assert 'class="source-code collapsed"' in collapsed
    assert ">+</span>" in collapsed


def test_generate_frame_html_without_source() -> None:
    middleware = ServerErrorMiddleware(broken_app)
    frame = inspect.FrameInfo(None, "<string>", 1, "<module>", None, None)  # type: ignore[arg-type]  # no frame object is needed
    page = middleware.generate_frame_html(frame, is_collapsed=False)
    assert "frame-line" not in page
    assert "&lt;string&gt;" in page


def test_generate_html_lists_frames_most_recent_first_and_collapses_the_rest() -> None:
    exc = caught("boom")
    page = ServerErrorMiddleware(broken_app).generate_html(exc)
    assert f"<h2>{html.escape(__name__)}.CustomError: boom</h2>" in page
    assert page.index("<b>raise_custom</b>") < page.index("<b>caught</b>")
    # Two frames: the innermost is expanded, the outer one collapsed.
    assert page.count('class="source-code collapsed"') == 1
    assert page.count('class="source-code"') == 1
    assert page.count('class="center-line"') == 2
    assert "<script" in page and "Starlette Debugger" in page


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_generate_html_shows_limit_lines_of_context(limit: int) -> None:
    exc = caught()
    page = ServerErrorMiddleware(broken_app).generate_html(exc, limit=limit)
    assert page.count('<span class="frame-line') == 2 * limit


def test_generate_html_for_an_exception_never_raised() -> None:
    page = ServerErrorMiddleware(broken_app).generate_html(ValueError("not raised"))
    assert "<h2>ValueError: not raised</h2>" in page
    assert 'class="frame-title"' not in page


def test_generate_html_for_an_exception_without_message() -> None:
    page = ServerErrorMiddleware(broken_app).generate_html(KeyError())
    assert "<h2>KeyError</h2>" in page


def test_generate_plain_text_includes_chained_exceptions() -> None:
    try:
        try:
            raise_custom("inner")
        except CustomError as inner:
            raise ValueError("outer") from inner
    except ValueError as exc:
        text = ServerErrorMiddleware(broken_app).generate_plain_text(exc)
    assert "CustomError: inner" in text
    assert "The above exception was the direct cause of the following exception" in text
    assert text.endswith("ValueError: outer\n")


# --- a real server --------------------------------------------------------------------------


def test_uvicorn_gets_the_500_and_the_exception() -> None:
    app: ASGIApp = ServerErrorMiddleware(broken_app)
    with run_uvicorn(app, log_level="critical") as server:
        response = httpx.get(server.http_url + "/", timeout=10)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


# --- inside a Starlette application -----------------------------------------------------------


def build_app(**kwargs: Any) -> Starlette:
    async def error(request: Request) -> Response:
        raise RuntimeError("endpoint failure")

    async def background_error(request: Request) -> Response:
        async def task() -> None:
            raise RuntimeError("background failure")

        return PlainTextResponse("sent", background=BackgroundTask(task))

    return Starlette(routes=[Route("/error", error), Route("/background", background_error)], **kwargs)


@pytest.mark.parametrize("key", [500, Exception])
def test_app_error_handler_by_500_or_exception(test_client_factory: TestClientFactory, key: Any) -> None:
    seen: list[str] = []

    async def server_error(request: Request, exc: Exception) -> Response:
        seen.append(str(exc))
        return JSONResponse({"detail": "Server Error"}, status_code=500)

    app = build_app(exception_handlers={key: server_error})
    response = test_client_factory(app, raise_server_exceptions=False).get("/error")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server Error"}
    with pytest.raises(RuntimeError, match="endpoint failure"):
        test_client_factory(app).get("/error")
    assert seen == ["endpoint failure", "endpoint failure"]


def test_app_debug_shows_the_traceback_instead_of_the_handler(test_client_factory: TestClientFactory) -> None:
    async def server_error(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("handler")  # pragma: no cover - debug wins

    app = build_app(debug=True, exception_handlers={500: server_error})
    client = test_client_factory(app, raise_server_exceptions=False)
    page = client.get("/error", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "<h2>RuntimeError: endpoint failure</h2>" in page.text
    text = client.get("/error")
    assert text.status_code == 500
    assert text.text.endswith("RuntimeError: endpoint failure\n")


def test_app_error_in_background_task_runs_the_handler_after_the_response(
    test_client_factory: TestClientFactory,
) -> None:
    seen: list[str] = []

    async def server_error(request: Request, exc: Exception) -> Response:
        seen.append(str(exc))
        return PlainTextResponse("discarded", status_code=500)

    app = build_app(exception_handlers={Exception: server_error})
    response = test_client_factory(app, raise_server_exceptions=False).get("/background")
    assert (response.status_code, response.text) == (200, "sent")
    assert seen == ["background failure"]
