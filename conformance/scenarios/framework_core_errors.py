"""Our ``starlette`` end to end: exception handlers, the debug page, background tasks, WebSockets.

What happens in the server process after the response (background tasks, a WebSocket endpoint's
exception) is recorded under a token from the query string and read back by a follow-up request
to the same scenario app, which waits (bounded) for it.

Background tasks: the in-process TestClient runs the whole app call, background tasks included,
before it hands the response over, so "the response arrives before the task ends" cannot hold
there (a waiver); a task waiting for the client then gives up after ``BACKGROUND_WAIT``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import anyio

from conformance import Session, WebSocketClient, WebSocketClosed, WebSocketRejected, expect, expect_equal, scenario
from conformance.scenarios.framework_core_http import base
from starlette.applications import Starlette
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.endpoints import WebSocketEndpoint
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

#: How long the server side waits for the client (or for a task to finish) before giving up.
WAIT = 5.0
#: How long a background task waits to be released by the client's follow-up request.
BACKGROUND_WAIT = 2.0
DEBUG_MARKER = "conformance: the debug page shows this"
#: For requests whose app raises after responding: servers may then close the connection (uvicorn does)
#: and a client reusing it would race with the close.
CLOSE = {"Connection": "close"}

# --- Observations, by token ---------------------------------------------------------------------

_LOG: dict[str, list[Any]] = {}
_EVENTS: dict[str, anyio.Event] = {}


def _event(name: str) -> anyio.Event:
    return _EVENTS.setdefault(name, anyio.Event())


def _log(token: str, entry: Any) -> None:
    _LOG.setdefault(token, []).append(entry)


def _token(connection: HTTPConnection) -> str:
    return connection.query_params.get("token", "")


async def _wait_finished(request: Request) -> JSONResponse:
    """Wait (bounded) until the token's work is finished; answer with what it logged."""
    token = _token(request)
    with anyio.move_on_after(WAIT):
        await _event(f"finished:{token}").wait()
    return JSONResponse(_LOG.get(token, []))


async def _status(request: Request) -> JSONResponse:
    return JSONResponse(_LOG.get(_token(request), []))


def new_token() -> str:
    """A fresh token naming one check's observations."""
    return secrets.token_hex(8)


# --- Exception handlers -------------------------------------------------------------------------


class _ConformanceError(Exception):
    pass


class _SpecificError(_ConformanceError):
    pass


class _WebSocketError(Exception):
    pass


async def _conformance_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"handler": "conformance", "type": type(exc).__name__, "args": list(exc.args)}, 409)


async def _not_found_page(request: Request, exc: Exception) -> HTMLResponse:
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    return HTMLResponse(f"<h1>Custom 404</h1><p>{request.url.path}: {detail}</p>", status_code=404)


async def _ws_error(websocket: WebSocket, exc: Exception) -> None:
    await websocket.close(code=4011, reason=f"handled {type(exc).__name__}")


async def _raise_http_exception(request: Request) -> Response:
    raise HTTPException(418, detail="short and stout", headers={"x-teapot": "yes"})


async def _raise_not_modified(request: Request) -> Response:
    raise HTTPException(304, headers={"etag": '"conformance"'})


async def _raise_gone(request: Request) -> Response:
    raise HTTPException(404, detail="gone fishing")


async def _raise_specific(request: Request) -> Response:
    raise _SpecificError("specific", 42)


async def _crash(request: Request) -> Response:
    raise RuntimeError(DEBUG_MARKER)


def _sync_crash(request: Request) -> Response:
    raise RuntimeError(DEBUG_MARKER)


async def _ws_close_exception(websocket: WebSocket) -> None:
    await websocket.accept()
    raise WebSocketException(code=4003, reason="conformance reason")


async def _ws_before_accept(websocket: WebSocket) -> None:
    raise WebSocketException(code=1008)


async def _ws_custom_error(websocket: WebSocket) -> None:
    await websocket.accept()
    raise _WebSocketError("in a websocket")


async def _ws_http_exception(websocket: WebSocket) -> None:
    _log(_token(websocket), "websocket.http.response" in websocket.scope.get("extensions", {}))
    _event(f"finished:{_token(websocket)}").set()
    raise HTTPException(400, detail="bad websocket request")


errors_app = Starlette(
    routes=[
        Route("/teapot", _raise_http_exception),
        Route("/not-modified", _raise_not_modified),
        Route("/gone", _raise_gone),
        Route("/specific", _raise_specific),
        Route("/crash", _crash),
        Route("/sync-crash", _sync_crash),
        Route("/report", _wait_finished),
        WebSocketRoute("/ws/close", _ws_close_exception),
        WebSocketRoute("/ws/before-accept", _ws_before_accept),
        WebSocketRoute("/ws/custom", _ws_custom_error),
        WebSocketRoute("/ws/http-exception", _ws_http_exception),
    ],
    exception_handlers={_ConformanceError: _conformance_error, _WebSocketError: _ws_error, 404: _not_found_page},
)

handler_500_app = Starlette(
    routes=[Route("/crash", _crash)],
    exception_handlers={Exception: lambda request, exc: JSONResponse({"handled": str(exc)}, 500)},
)

debug_app = Starlette(debug=True, routes=[Route("/crash", _crash)])


@scenario("framework.errors.http_exception", app=errors_app)
def _http_exception(s: Session) -> None:
    """HTTPException(418, detail, headers): that status, the detail as plain text, the headers."""
    response = s.http.get("/teapot")
    expect_equal("status", response.status_code, 418)
    expect_equal("body", response.text, "short and stout")
    expect_equal("x-teapot", response.headers.get("x-teapot"), "yes")
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")


@scenario("framework.errors.http_exception_no_body", app=errors_app)
def _http_exception_no_body(s: Session) -> None:
    """HTTPException(304): no body, the exception's headers kept."""
    response = s.http.get("/not-modified")
    expect_equal(
        "status, body, etag",
        [response.status_code, response.content, response.headers.get("etag")],
        [304, b"", '"conformance"'],
    )


@scenario("framework.errors.custom_class", app=errors_app)
def _custom_class(s: Session) -> None:
    """A handler registered for an exception class handles its subclasses too."""
    response = s.http.get("/specific")
    expect_equal("status", response.status_code, 409)
    expect_equal(
        "body", response.json(), {"handler": "conformance", "type": "_SpecificError", "args": ["specific", 42]}
    )


@scenario("framework.errors.status_handler", app=errors_app)
def _status_handler(s: Session) -> None:
    """A 404 handler renders both "no route" and a raised HTTPException(404)."""
    missing = s.http.get("/nowhere")
    gone = s.http.get("/gone")
    expect_equal("statuses", [missing.status_code, gone.status_code], [404, 404])
    expect_equal("no route", missing.text, "<h1>Custom 404</h1><p>/nowhere: Not Found</p>")
    expect_equal("raised", gone.text, "<h1>Custom 404</h1><p>/gone: gone fishing</p>")
    expect_equal("content-type", gone.headers.get("content-type"), "text/html; charset=utf-8")


@scenario("framework.errors.unhandled", app=errors_app)
def _unhandled(s: Session) -> None:
    """An unhandled exception (async or sync endpoint, debug off): 500 "Internal Server Error" as text."""
    for path in ("/crash", "/sync-crash"):
        response = s.http.get(path, headers=CLOSE)
        expect_equal(f"status of {path}", response.status_code, 500)
        expect_equal(f"body of {path}", response.text, "Internal Server Error")
        expect_equal(f"content-type of {path}", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("status of a request after the errors", s.http.get("/teapot").status_code, 418)


@scenario("framework.errors.handler_500", app=handler_500_app)
def _handler_500(s: Session) -> None:
    """A handler for Exception renders unhandled errors."""
    response = s.http.get("/crash", headers=CLOSE)
    expect_equal("status, body", [response.status_code, response.json()], [500, {"handled": DEBUG_MARKER}])


@scenario("framework.errors.debug_html", app=debug_app)
def _debug_html(s: Session) -> None:
    """debug=True, a browser asking for HTML: a 500 HTML page with the traceback."""
    response = s.http.get("/crash", headers={**CLOSE, "Accept": "text/html,application/xhtml+xml;q=0.9"})
    expect_equal("status", response.status_code, 500)
    expect_equal("content-type", response.headers.get("content-type"), "text/html; charset=utf-8")
    for part in ("<html", "RuntimeError", DEBUG_MARKER, "_crash"):
        expect(part in response.text, f"{part!r} not in the debug page: {response.text[:300]!r}")


@scenario("framework.errors.debug_plain", app=debug_app)
def _debug_plain(s: Session) -> None:
    """debug=True, a client not asking for HTML: the traceback as plain text."""
    response = s.http.get("/crash", headers={**CLOSE, "Accept": "*/*"})
    expect_equal("status", response.status_code, 500)
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect(response.text.startswith("Traceback (most recent call last):"), f"not a traceback: {response.text[:200]!r}")
    expect(f"RuntimeError: {DEBUG_MARKER}" in response.text, f"the exception is not in: {response.text[-300:]!r}")


def _close(ws: WebSocketClient) -> tuple[int, str] | str | bytes:
    """How the server closed the connection (code, reason); a message if it sent one instead."""
    try:
        return ws.receive()
    except WebSocketClosed as closed:
        return closed.code, closed.reason


def handshake(s: Session, path: str) -> tuple[int, bytes]:
    """Open a WebSocket to ``path`` and close it: (101, b"") if accepted, else the HTTP status and body."""
    try:
        with s.websocket(path):
            return 101, b""
    except WebSocketRejected as rejected:
        return rejected.status_code, rejected.body


_DAPHNE_REASON = "daphne drops the close reason: its ws_protocol.handle_reply calls serverClose(code=...) only"
_TESTCLIENT_RAISES = (
    "the TestClient re-raises the app's exceptions in the test (testclient.md: 'always raised by the test client'): "
    "here the RuntimeError Starlette raises after closing with 1003"
)
_DAPHNE_1003 = (
    "daphne (autobahn's sendClose) refuses close codes other than 1000 and 3000-4999: 'invalid close code 1003', "
    "then closes with 1011"
)
_DAPHNE_SCHEME = (
    "daphne leaves out the optional WebSocket scope['scheme'] (spec default 'ws'), which Starlette, like 0.50, "
    "reads as 'http'"
)


@scenario("framework.errors.websocket_exception", app=errors_app, waivers={"daphne": _DAPHNE_REASON})
def _websocket_exception(s: Session) -> None:
    """WebSocketException after accept closes the connection with its code and reason."""
    with s.websocket("/ws/close") as ws:
        expect_equal("close code and reason", _close(ws), (4003, "conformance reason"))


@scenario("framework.errors.websocket_exception_before_accept", app=errors_app)
def _websocket_exception_before_accept(s: Session) -> None:
    """WebSocketException before accept: the handshake is refused with 403."""
    expect_equal("status", handshake(s, "/ws/before-accept")[0], 403)


@scenario("framework.errors.websocket_handler", app=errors_app, waivers={"daphne": _DAPHNE_REASON})
def _websocket_handler(s: Session) -> None:
    """A custom exception class handler runs for WebSocket routes too (here it closes with 4011)."""
    with s.websocket("/ws/custom") as ws:
        expect_equal("close code and reason", _close(ws), (4011, "handled _WebSocketError"))


@scenario("framework.errors.websocket_http_exception", app=errors_app)
def _websocket_http_exception(s: Session) -> None:
    """HTTPException before accept: its status and detail as the HTTP answer where the server offers
    websocket.http.response; a plain 403 refusal otherwise."""
    token = new_token()
    answer = handshake(s, f"/ws/http-exception?token={token}")
    [offered] = s.http.get(f"/report?token={token}").json()
    expected = (400, b"bad websocket request") if offered else (403, answer[1])
    expect_equal(f"status and body (denial extension offered: {offered})", answer, expected)


# --- Background tasks ---------------------------------------------------------------------------


async def _wait_release(token: str) -> None:
    with anyio.move_on_after(BACKGROUND_WAIT) as waiting:
        await _event(f"release:{token}").wait()
    _log(token, "timed out" if waiting.cancelled_caught else "released")
    _event(f"finished:{token}").set()


async def _background_start(request: Request) -> PlainTextResponse:
    token = _token(request)
    _log(token, "responding")
    return PlainTextResponse("x" * 100_000, background=BackgroundTask(_wait_release, token))


async def _background_release(request: Request) -> JSONResponse:
    _event(f"release:{_token(request)}").set()
    return await _wait_finished(request)


async def _task_async(token: str, name: str) -> None:
    await anyio.sleep(0)
    _log(token, name)


def _task_sync(token: str, name: str) -> None:
    _log(token, name)


async def _task_raise(token: str) -> None:
    _log(token, "raising")
    _event(f"finished:{token}").set()
    raise RuntimeError("conformance: a background task failed")


async def _background_many(request: Request) -> PlainTextResponse:
    token = _token(request)
    tasks = BackgroundTasks()
    tasks.add_task(_task_async, token, "first")
    tasks.add_task(_task_sync, token, name="second")
    tasks.add_task(_task_async, token, name="third")
    tasks.add_task(_event(f"finished:{token}").set)
    return PlainTextResponse("queued", background=tasks)


async def _background_raise(request: Request) -> PlainTextResponse:
    token = _token(request)
    tasks = BackgroundTasks()
    tasks.add_task(_task_sync, token, "before")
    tasks.add_task(_task_raise, token)
    tasks.add_task(_task_sync, token, "after")
    return PlainTextResponse("sent intact", headers={"x-before-task": "yes"}, background=tasks)


background_app = Starlette(
    routes=[
        Route("/start", _background_start),
        Route("/status", _status),
        Route("/release", _background_release),
        Route("/many", _background_many),
        Route("/raise", _background_raise),
        Route("/report", _wait_finished),
    ]
)

_TESTCLIENT_BACKGROUND = (
    "the in-process TestClient returns the response only once the app call, background tasks included, has ended"
)


@scenario("framework.background.after_response", app=background_app, waivers={"testclient": _TESTCLIENT_BACKGROUND})
def _after_response(s: Session) -> None:
    """The client has the whole response while its background task still runs (it waits for the client)."""
    token = new_token()
    # "Connection: close": the follow-up requests must not wait behind the task on this connection.
    response = s.http.get(f"/start?token={token}", headers=CLOSE)
    expect_equal("status and body length", [response.status_code, len(response.content)], [200, 100_000])
    expect_equal("log once the response arrived", s.http.get(f"/status?token={token}").json(), ["responding"])
    expect_equal("log once released", s.http.get(f"/release?token={token}").json(), ["responding", "released"])


@scenario("framework.background.tasks_in_order", app=background_app)
def _tasks_in_order(s: Session) -> None:
    """BackgroundTasks run after the response, in the order added (async and sync, args and kwargs)."""
    token = new_token()
    expect_equal("response", s.http.get(f"/many?token={token}").text, "queued")
    expect_equal("tasks run", s.http.get(f"/report?token={token}").json(), ["first", "second", "third"])


@scenario("framework.background.task_raises", app=background_app)
def _task_raises(s: Session) -> None:
    """A failing background task leaves the sent response intact, and stops the tasks after it."""
    token = new_token()
    response = s.http.get(f"/raise?token={token}", headers=CLOSE)
    expect_equal(
        "response",
        [response.status_code, response.text, response.headers.get("x-before-task")],
        [200, "sent intact", "yes"],
    )
    expect_equal("tasks run", s.http.get(f"/report?token={token}").json(), ["before", "raising"])
    expect_equal("status of a later request", s.http.get(f"/status?token={token}").status_code, 200)


# --- WebSockets through starlette ---------------------------------------------------------------


async def _ws_room(websocket: WebSocket) -> None:
    await websocket.accept()
    params = {name: [type(value).__name__, value] for name, value in websocket.path_params.items()}
    await websocket.send_json(
        {
            "params": params,
            "url": str(websocket.url),
            "url_for": str(websocket.url_for("room", room="lobby", seat=7)),
            "mounted_url_for": str(websocket.url_for("chat:channel", channel="news")),
            "query": websocket.query_params.multi_items(),
            "cookies": websocket.cookies,
            "root_path": websocket.scope.get("root_path", ""),
        }
    )
    await websocket.close()


class _JsonEcho(WebSocketEndpoint):
    encoding = "json"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_json({"got": data, "type": type(data).__name__})


class _TextCounter(WebSocketEndpoint):
    encoding = "text"

    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept(subprotocol=(websocket.scope.get("subprotocols") or [None])[0])
        self.count = 0

    async def on_receive(self, websocket: WebSocket, data: str) -> None:
        self.count += 1
        await websocket.send_text(f"{self.count}:{data}")


websocket_app = Starlette(
    routes=[
        WebSocketRoute("/room/{room}/{seat:int}", _ws_room, name="room"),
        WebSocketRoute("/json", _JsonEcho),
        WebSocketRoute("/count", _TextCounter),
        Mount("/chat", name="chat", routes=[WebSocketRoute("/{channel}", _ws_room, name="channel")]),
        Route("/http-only", lambda request: PlainTextResponse("http")),
    ]
)


def _receive_json(ws: WebSocketClient) -> Any:
    message = ws.receive()
    expect(isinstance(message, str), f"expected a text message, got {message!r}")
    return json.loads(message)


def _ws_base(s: Session) -> str:
    return "ws" + base(s).removeprefix("http")


@scenario("framework.websocket.path_params", app=websocket_app)
def _ws_path_params(s: Session) -> None:
    """WebSocketRoute path params reach the endpoint typed and decoded; query and cookies too."""
    with s.websocket("/room/caf%C3%A9/12?a=1&a=2", headers={"Cookie": "session=abc"}) as ws:
        data = _receive_json(ws)
    expect_equal("params", data["params"], {"room": ["str", "café"], "seat": ["int", 12]})
    expect_equal("query", data["query"], [["a", "1"], ["a", "2"]])
    expect_equal("cookies", data["cookies"], {"session": "abc"})


@scenario("framework.websocket.url_for", app=websocket_app, waivers={"daphne": _DAPHNE_SCHEME})
def _ws_url_for(s: Session) -> None:
    """websocket.url and url_for are ws:// URLs on the request's host (mount prefixes included)."""
    with s.websocket("/room/lobby/1?x=y") as ws:
        data = _receive_json(ws)
    expect_equal("websocket.url", data["url"], f"{_ws_base(s)}/room/lobby/1?x=y")
    expect_equal("url_for('room')", data["url_for"], f"{_ws_base(s)}/room/lobby/7")
    expect_equal("url_for('chat:channel')", data["mounted_url_for"], f"{_ws_base(s)}/chat/news")


@scenario("framework.websocket.mount", app=websocket_app)
def _ws_mount(s: Session) -> None:
    """A WebSocketRoute inside a Mount: its params, and the mount prefix in root_path."""
    with s.websocket("/chat/general") as ws:
        data = _receive_json(ws)
    expect_equal(
        "params and root_path", [data["params"], data["root_path"]], [{"channel": ["str", "general"]}, "/chat"]
    )


@scenario("framework.websocket.endpoint_json", app=websocket_app)
def _ws_endpoint_json(s: Session) -> None:
    """A WebSocketEndpoint with encoding "json" decodes each message (text or bytes) and sends JSON."""
    with s.websocket("/json") as ws:
        ws.send_text(json.dumps({"a": ["ü", 1]}))
        first = _receive_json(ws)
        ws.send_bytes(json.dumps([1, 2]).encode())
        second = _receive_json(ws)
        ws.close()
    expect_equal(
        "replies", [first, second], [{"got": {"a": ["ü", 1]}, "type": "dict"}, {"got": [1, 2], "type": "list"}]
    )


@scenario(
    "framework.websocket.endpoint_bad_json",
    app=websocket_app,
    waivers={"testclient": _TESTCLIENT_RAISES, "daphne": _DAPHNE_1003},
)
def _ws_endpoint_bad_json(s: Session) -> None:
    """A WebSocketEndpoint with encoding "json" closes with 1003 (unsupported data) on malformed JSON."""
    with s.websocket("/json") as ws:
        ws.send_text("{not json")
        expect_equal("close code", _close(ws)[:1], (1003,))


@scenario("framework.websocket.endpoint_text", app=websocket_app)
def _ws_endpoint_text(s: Session) -> None:
    """A WebSocketEndpoint keeps its state across messages; on_connect may pick a subprotocol."""
    with s.websocket("/count", subprotocols=["conformance.v1"]) as ws:
        subprotocol = ws.subprotocol
        replies = []
        for text in ("a", "b"):
            ws.send_text(text)
            replies.append(ws.receive())
        ws.close()
    expect_equal("subprotocol and replies", [subprotocol, replies], ["conformance.v1", ["1:a", "2:b"]])


@scenario("framework.websocket.no_route", app=websocket_app)
def _ws_no_route(s: Session) -> None:
    """A WebSocket to a path no WebSocket route matches (none, or an HTTP route) is refused with 403.

    (A WebSocket route's path is accepted: 101.)
    """
    statuses = [handshake(s, path)[0] for path in ("/room/a/1", "/nowhere", "/http-only")]
    expect_equal("statuses of a WebSocket route, no route, an HTTP route", statuses, [101, 403, 403])
