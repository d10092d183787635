"""How Starlette stacks middleware, observed from behind each server; and WSGIMiddleware.

The stack is ServerErrorMiddleware (outermost), the user's middleware in the order given (the
first one is the outermost), ExceptionMiddleware, the router; middleware given to a Route or a
Mount wraps only that route or mount. The ``_Tag`` middleware makes the order observable: on
the way in it appends its name to a list in the scope (which the endpoint returns), on the way
out it appends its name to an ``x-tag`` response header, so the innermost middleware tags the
response first.
"""

from __future__ import annotations

import json
import secrets
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

from conformance import Session, expect_equal, scenario
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

with warnings.catch_warnings():
    # The module warns that it is deprecated when first imported; that is known and not under test.
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.middleware.wsgi import WSGIMiddleware

_WAIT = 1.5
_BUFFERED = "the TestClient returns a response only once the app has finished sending it (as Starlette's does)"
_ORDER_KEY = "conformance.order"


class _Tag:
    """Pure ASGI middleware recording its name in the scope (in) and an x-tag header (out)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-tag", self.name)
            await send(message)

        scope[_ORDER_KEY] = [*scope.get(_ORDER_KEY, []), self.name]
        await self.app(scope, receive, tagging_send)


def _tags(response: httpx.Response) -> list[str]:
    return response.headers.get_list("x-tag")


async def _order(request: Request) -> Response:
    return JSONResponse(request.scope.get(_ORDER_KEY, []))


async def _http_exception(request: Request) -> Response:
    raise HTTPException(status_code=418, detail="short and stout")


async def _crash(request: Request) -> Response:
    raise RuntimeError("conformance: the endpoint failed")


async def _custom_500(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"custom 500 for {type(exc).__name__}", status_code=500)


# --- Pure ASGI middleware order -----------------------------------------------------------------

_ORDERED = Starlette(
    routes=[Route("/", _order)],
    middleware=[Middleware(_Tag, name="first"), Middleware(_Tag, name="second"), Middleware(_Tag, name="third")],
)
_ORDERED.add_middleware(_Tag, name="added")


@scenario("framework.middleware.order", app=_ORDERED)
def _pure_order(s: Session) -> None:
    """The first middleware listed is the outermost (add_middleware() puts one outside them all):
    the request meets added, first, second, third; the response, third, second, first, added."""
    response = s.http.get("/")
    expect_equal("status", response.status_code, 200)
    expect_equal("order on the way in", response.json(), ["added", "first", "second", "third"])
    expect_equal("order on the way out", _tags(response), ["third", "second", "first", "added"])


# --- ServerErrorMiddleware and ExceptionMiddleware ----------------------------------------------

_ERRORS = Starlette(
    routes=[Route("/http-exception", _http_exception), Route("/crash", _crash)],
    middleware=[Middleware(_Tag, name="user")],
)
_CUSTOM_500 = Starlette(
    routes=[Route("/crash", _crash)], middleware=[Middleware(_Tag, name="user")], exception_handlers={500: _custom_500}
)


@scenario("framework.middleware.errors_http_exception", app=_ERRORS)
def _errors_http_exception(s: Session) -> None:
    """An HTTPException becomes a response inside the user's middleware (ExceptionMiddleware is
    innermost): status and detail, with the user middleware's tag."""
    response = s.http.get("/http-exception")
    expect_equal("status", response.status_code, 418)
    expect_equal("body", response.text, "short and stout")
    expect_equal("tags", _tags(response), ["user"])


@scenario("framework.middleware.errors_server_error", app=_ERRORS)
def _errors_server_error(s: Session) -> None:
    """An unhandled exception crosses the user's middleware and becomes a plain-text 500 "Internal
    Server Error" in ServerErrorMiddleware (outermost): no user tag on it."""
    response = s.http.get("/crash")
    expect_equal("status", response.status_code, 500)
    expect_equal("body", response.text, "Internal Server Error")
    expect_equal("content-type", response.headers.get("content-type"), "text/plain; charset=utf-8")
    expect_equal("tags", _tags(response), [])


@scenario("framework.middleware.errors_custom_500", app=_CUSTOM_500)
def _errors_custom_500(s: Session) -> None:
    """A handler for 500 (or Exception) is ServerErrorMiddleware's: it renders the 500, outside
    the user's middleware."""
    response = s.http.get("/crash")
    expect_equal("status", response.status_code, 500)
    expect_equal("body", response.text, "custom 500 for RuntimeError")
    expect_equal("tags", _tags(response), [])


# --- Middleware on Route and Mount --------------------------------------------------------------

_SCOPED = Starlette(
    routes=[
        Route("/plain", _order),
        Route("/route", _order, middleware=[Middleware(_Tag, name="route")]),
        Mount("/mount", routes=[Route("/inner", _order)], middleware=[Middleware(_Tag, name="mount")]),
    ],
    middleware=[Middleware(_Tag, name="app")],
)


@scenario("framework.middleware.route_middleware", app=_SCOPED)
def _route_middleware(s: Session) -> None:
    """Middleware given to a Route runs inside the app's, for that route only."""
    route = s.http.get("/route")
    expect_equal("order on /route", route.json(), ["app", "route"])
    expect_equal("tags on /route", _tags(route), ["route", "app"])
    plain = s.http.get("/plain")
    expect_equal("order on /plain", plain.json(), ["app"])
    expect_equal("tags on /plain", _tags(plain), ["app"])
    missing = s.http.get("/nowhere")
    expect_equal("status of an unknown path", missing.status_code, 404)
    expect_equal("tags on an unknown path", _tags(missing), ["app"])


@scenario("framework.middleware.mount_middleware", app=_SCOPED)
def _mount_middleware(s: Session) -> None:
    """Middleware given to a Mount wraps everything below it; a 404 raised by the mounted router
    becomes a response outside it (in ExceptionMiddleware), so only the app's tag is on it."""
    inner = s.http.get("/mount/inner")
    expect_equal("order on /mount/inner", inner.json(), ["app", "mount"])
    expect_equal("tags on /mount/inner", _tags(inner), ["mount", "app"])
    missing = s.http.get("/mount/missing")
    expect_equal("status below the mount", missing.status_code, 404)
    expect_equal("tags below the mount", _tags(missing), ["app"])


# --- WSGIMiddleware -----------------------------------------------------------------------------

_RELEASES: dict[str, threading.Event] = {}
_RELEASES_LOCK = threading.Lock()


def _release_event(token: str) -> threading.Event:
    with _RELEASES_LOCK:
        return _RELEASES.setdefault(token, threading.Event())


def _held_output(token: str) -> Iterator[bytes]:
    yield b"first|"
    released = _release_event(token).wait(_WAIT)
    with _RELEASES_LOCK:
        _RELEASES.pop(token, None)
    yield b"released|" if released else b"timed out|"
    yield b"last"


def _wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """/echo: the environ's essentials as JSON; /stream: output held until /release is called;
    /error: raises."""
    path = environ["PATH_INFO"]
    query = dict(pair.split("=", 1) for pair in environ["QUERY_STRING"].split("&") if pair)
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _held_output(query["token"])
    if path == "/error":
        raise RuntimeError("conformance: the WSGI app failed")
    if path == "/release":
        _release_event(query["token"]).set()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"released"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data = {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": path,
        "query_string": environ["QUERY_STRING"],
        "content_type": environ.get("CONTENT_TYPE"),
        "body": environ["wsgi.input"].read(length).decode(),
        "custom_header": environ.get("HTTP_X_CUSTOM"),
        "url_scheme": environ["wsgi.url_scheme"],
    }
    start_response("201 Created", [("Content-Type", "application/json"), ("X-WSGI", "yes")])
    return [json.dumps(data).encode()]


_WSGI = Starlette(routes=[Mount("/wsgi", WSGIMiddleware(_wsgi_app))])


@scenario("framework.middleware.wsgi", app=_WSGI)
def _wsgi(s: Session) -> None:
    """A WSGI app mounted with WSGIMiddleware gets a PEP 3333 environ (SCRIPT_NAME is the mount,
    PATH_INFO the rest, the body on wsgi.input, headers as HTTP_*); its status and headers reach
    the client."""
    response = s.http.post(
        "/wsgi/echo", params={"a": "1"}, content=b"wsgi body", headers={"content-type": "text/plain", "x-custom": "c"}
    )
    expect_equal("status", response.status_code, 201)
    expect_equal("x-wsgi", response.headers.get("x-wsgi"), "yes")
    expected = {
        "method": "POST",
        "script_name": "/wsgi",
        "path_info": "/echo",
        "query_string": "a=1",
        "content_type": "text/plain",
        "body": "wsgi body",
        "custom_header": "c",
        "url_scheme": "http",
    }
    expect_equal("environ", response.json(), expected)


@scenario("framework.middleware.wsgi_streaming", app=_WSGI, waivers={"testclient": _BUFFERED})
def _wsgi_streaming(s: Session) -> None:
    """The output of a WSGI app reaches the client as it is produced: the first chunk arrives
    while the WSGI app still waits for a follow-up request."""
    token = secrets.token_hex(8)
    with s.http.stream("GET", "/wsgi/stream", params={"token": token}) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        s.http.get("/wsgi/release", params={"token": token})
        rest = b"".join(chunks)
    expect_equal("status", response.status_code, 200)
    expect_equal("first chunk", first, b"first|")
    expect_equal("rest of the output", rest, b"released|last")


@scenario("framework.middleware.wsgi_error", app=_WSGI)
def _wsgi_error(s: Session) -> None:
    """An exception raised by the WSGI app becomes Starlette's plain 500 "Internal Server Error"."""
    response = s.http.get("/wsgi/error")
    expect_equal("status", response.status_code, 500)
    expect_equal("body", response.text, "Internal Server Error")
