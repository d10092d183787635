"""Starlette's security and request/response middleware behind each server.

HTTPSRedirectMiddleware, TrustedHostMiddleware, BaseHTTPMiddleware and AuthenticationMiddleware
(with ``requires``). The stack's order, middleware on routes and mounts, and WSGIMiddleware are in
``framework_middleware_stack``.

Scenarios that observe something happening after (or while) a response is sent use a
*mailbox*: module-level state in the server process keyed by a token from the query string,
which a follow-up request reads or releases. Every wait has a timeout, so a broken server or
middleware shows up as a failed check, never as a hang.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import anyio
import httpx

from conformance import Session, WebSocketRejected, expect, expect_equal, scenario
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    requires,
)
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

#: How long an app waits for a follow-up request before giving up (and reporting it).
_WAIT = 1.5
_BUFFERED = "the TestClient returns a response only once the app has finished sending it (as Starlette's does)"


class _Mailbox:
    """Events and notes shared by the requests of one scenario run, keyed by a token."""

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}
        self.notes: dict[str, str] = {}

    def event(self, token: str) -> anyio.Event:
        if token not in self._events:
            self._events[token] = anyio.Event()
        return self._events[token]

    async def wait(self, token: str) -> bool:
        """Wait (at most ``_WAIT`` seconds) for ``token`` to be set; forget it either way."""
        with anyio.move_on_after(_WAIT):
            await self.event(token).wait()
        return self._events.pop(token).is_set()


_MAILBOX = _Mailbox()


async def _ok(request: Request) -> Response:
    return PlainTextResponse(f"ok {request.url.path}")


# --- HTTPSRedirectMiddleware --------------------------------------------------------------------


# No WebSocket route: the middleware answers every ws handshake before routing.
_HTTPS = Starlette(routes=[Route("/{path:path}", _ok)], middleware=[Middleware(HTTPSRedirectMiddleware)])


async def _https_or_fallback(scope: Scope, receive: Receive, send: Send) -> None:
    """HTTPSRedirectMiddleware's app, except for a WebSocket without the denial extension: refused."""
    if scope["type"] == "websocket" and "websocket.http.response" not in (scope.get("extensions") or {}):
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    await _HTTPS(scope, receive, send)


def _handshake(s: Session, path: str, headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    """The status of a WebSocket handshake (101 when accepted) and the Location of a refusal."""
    try:
        with s.websocket(path, headers=headers) as ws:
            ws.close()
            return 101, None
    except WebSocketRejected as rejected:
        return rejected.status_code, rejected.header("location")


def _secure(s: Session, scheme: str, path: str, query: str = "") -> str:
    """The URL of ``path`` on the server the session talks to, with ``scheme``."""
    return str(s.http.base_url.copy_with(scheme=scheme, path=path, query=query.encode() or None))


@scenario("framework.middleware.https_redirect", app=_HTTPS)
def _https_redirect(s: Session) -> None:
    """An http request is answered 307 to the same URL on https, with the server's host:port."""
    response = s.http.get("/some/page", params={"q": "1"})
    expect_equal("status", response.status_code, 307)
    expect_equal("location", response.headers.get("location"), _secure(s, "https", "/some/page", "q=1"))
    post = s.http.post("/form")
    expect_equal("status of a POST", post.status_code, 307)
    expect_equal("location of a POST", post.headers.get("location"), _secure(s, "https", "/form"))


@scenario("framework.middleware.https_redirect_websocket", app=_https_or_fallback)
def _https_redirect_websocket(s: Session) -> None:
    """A ws handshake is denied with a 307 to the wss URL with the server's host:port (a denial
    response), where the server offers websocket.http.response; otherwise it is refused (403)."""
    outcome = _handshake(s, "/ws")
    expect(outcome in [(307, _secure(s, "wss", "/ws")), (403, None)], f"handshake answered {outcome}")


# --- TrustedHostMiddleware ----------------------------------------------------------------------

_TRUSTED = Starlette(
    routes=[Route("/{path:path}", _ok)],
    middleware=[
        Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "testserver", "www.example.com", "*.example.org"])
    ],
)


@scenario("framework.middleware.trustedhost_allowed", app=_TRUSTED)
def _trustedhost_allowed(s: Session) -> None:
    """Requests for an allowed host (the server's own, with its port; a wildcard subdomain) pass."""
    response = s.http.get("/page")
    expect_equal("status for the server's host", response.status_code, 200)
    expect_equal("body", response.text, "ok /page")
    sub = s.http.get("/page", headers={"host": "api.example.org"})
    expect_equal("status for a wildcard subdomain", sub.status_code, 200)


@scenario("framework.middleware.trustedhost_invalid", app=_TRUSTED)
def _trustedhost_invalid(s: Session) -> None:
    """A request for another host gets 400 "Invalid host header" (so does the bare wildcard domain)."""
    for host in ("evil.example", "example.org", "www.example.com.evil.example"):
        response = s.http.get("/page", headers={"host": host})
        expect_equal(f"status for Host {host}", response.status_code, 400)
        expect_equal(f"body for Host {host}", response.text, "Invalid host header")


@scenario("framework.middleware.trustedhost_www_redirect", app=_TRUSTED)
def _trustedhost_www_redirect(s: Session) -> None:
    """A request for example.com when only www.example.com is allowed is redirected there."""
    response = s.http.get("/page", params={"x": "1"}, headers={"host": "example.com"})
    expect_equal("status", response.status_code, 307)
    expect_equal("location", response.headers.get("location"), "http://www.example.com/page?x=1")


# --- BaseHTTPMiddleware -------------------------------------------------------------------------


class _Teapot(Exception):
    pass


class _Dispatch(BaseHTTPMiddleware):
    """Reads the body of POSTs before the endpoint does; marks every response it passes on."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        seen = await request.body() if request.method == "POST" else b""
        response = await call_next(request)
        response.headers["x-dispatch"] = "seen"
        response.headers["x-dispatch-body"] = str(len(seen))
        return response


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"length": len(body), "text": body.decode()})


async def _held_stream(token: str) -> AsyncIterator[bytes]:
    yield b"first|"
    yield b"released|" if await _MAILBOX.wait(token) else b"timed out|"
    yield b"last"


async def _stream(request: Request) -> Response:
    return StreamingResponse(_held_stream(request.query_params["token"]), media_type="text/plain")


async def _release(request: Request) -> Response:
    _MAILBOX.event(request.query_params["token"]).set()
    return PlainTextResponse("released")


async def _note(token: str) -> None:
    _MAILBOX.notes[token] = "background ran"
    _MAILBOX.event(token).set()


async def _background(request: Request) -> Response:
    return PlainTextResponse("sent", background=BackgroundTask(_note, request.query_params["token"]))


async def _background_result(request: Request) -> Response:
    token = request.query_params["token"]
    await _MAILBOX.wait(token)
    return PlainTextResponse(_MAILBOX.notes.pop(token, "background did not run"))


async def _teapot(request: Request) -> Response:
    raise _Teapot()


async def _crash(request: Request) -> Response:
    raise RuntimeError("conformance: the endpoint failed")


async def _teapot_handler(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("handled teapot", status_code=418)


_BASE = Starlette(
    routes=[
        Route("/echo", _echo, methods=["POST"]),
        Route("/stream", _stream),
        Route("/release", _release),
        Route("/background", _background),
        Route("/background-result", _background_result),
        Route("/teapot", _teapot),
        Route("/crash", _crash),
    ],
    middleware=[Middleware(_Dispatch)],
    exception_handlers={_Teapot: _teapot_handler},
)


@scenario("framework.middleware.base_headers", app=_BASE)
def _base_headers(s: Session) -> None:
    """dispatch() sees the endpoint's response and its changes to the headers reach the client."""
    response = s.http.post("/echo", content=b"")
    expect_equal("status", response.status_code, 200)
    expect_equal("x-dispatch", response.headers.get("x-dispatch"), "seen")
    expect_equal("body", response.json(), {"length": 0, "text": ""})


@scenario("framework.middleware.base_body_read_twice", app=_BASE)
def _base_body_read_twice(s: Session) -> None:
    """The body read in dispatch() is read again, whole, by the endpoint."""
    payload = "payload read by the middleware and by the endpoint " * 200
    response = s.http.post("/echo", content=payload.encode())
    expect_equal("status", response.status_code, 200)
    expect_equal("length read by dispatch", response.headers.get("x-dispatch-body"), str(len(payload)))
    expect_equal("body read by the endpoint", response.json(), {"length": len(payload), "text": payload})


@scenario("framework.middleware.base_streaming", app=_BASE, waivers={"testclient": _BUFFERED})
def _base_streaming(s: Session) -> None:
    """A streaming response passes through dispatch() chunk by chunk: the client gets the first
    chunk while the endpoint still waits for a follow-up request before sending the rest."""
    token = secrets.token_hex(8)
    with s.http.stream("GET", "/stream", params={"token": token}) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        s.http.get("/release", params={"token": token})
        rest = b"".join(chunks)
    expect_equal("first chunk", first, b"first|")
    expect_equal("rest of the stream", rest, b"released|last")
    expect_equal("x-dispatch", response.headers.get("x-dispatch"), "seen")


@scenario("framework.middleware.base_background", app=_BASE)
def _base_background(s: Session) -> None:
    """The background task of the downstream response still runs after it went through dispatch()."""
    token = secrets.token_hex(8)
    response = s.http.get("/background", params={"token": token})
    expect_equal("status", response.status_code, 200)
    expect_equal("body", response.text, "sent")
    result = s.http.get("/background-result", params={"token": token})
    expect_equal("background task", result.text, "background ran")


@scenario("framework.middleware.base_exception_handler", app=_BASE)
def _base_exception_handler(s: Session) -> None:
    """An exception raised by the endpoint reaches its exception handler (inside dispatch())."""
    response = s.http.get("/teapot")
    expect_equal("status", response.status_code, 418)
    expect_equal("body", response.text, "handled teapot")
    expect_equal("x-dispatch", response.headers.get("x-dispatch"), "seen")


@scenario("framework.middleware.base_unhandled_error", app=_BASE)
def _base_unhandled_error(s: Session) -> None:
    """An unhandled exception goes up through dispatch() (no x-dispatch) to a plain 500."""
    response = s.http.get("/crash")
    expect_equal("status", response.status_code, 500)
    expect_equal("body", response.text, "Internal Server Error")
    expect_equal("x-dispatch", response.headers.get("x-dispatch"), None)


# --- AuthenticationMiddleware -------------------------------------------------------------------


class _BearerBackend(AuthenticationBackend):
    """ "Authorization: Bearer <name>" authenticates <name>; the name "admin" also has "admin"."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, name = header.partition(" ")
        if scheme.lower() != "bearer" or not name:
            raise AuthenticationError("Invalid bearer token")
        scopes = ["authenticated", "admin"] if name == "admin" else ["authenticated"]
        return AuthCredentials(scopes), SimpleUser(name)


async def _whoami(request: Request) -> Response:
    user = request.user
    return JSONResponse(
        {"authenticated": user.is_authenticated, "name": user.display_name, "scopes": request.auth.scopes}
    )


@requires("authenticated")
async def _private(request: Request) -> Response:
    return PlainTextResponse(f"private to {request.user.display_name}")


@requires(["authenticated", "admin"], redirect="login")
async def _admin(request: Request) -> Response:
    return PlainTextResponse("admin area")


@requires("authenticated")
async def _ws_private(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(json.dumps({"name": websocket.user.display_name}))
    await websocket.close()


_AUTH = Starlette(
    routes=[
        Route("/whoami", _whoami),
        Route("/private", _private),
        Route("/admin", _admin),
        Route("/login", _ok, name="login"),
        WebSocketRoute("/ws", _ws_private),
    ],
    middleware=[Middleware(AuthenticationMiddleware, backend=_BearerBackend())],
)


@scenario("framework.middleware.auth_user", app=_AUTH)
def _auth_user(s: Session) -> None:
    """request.user and request.auth come from the backend; without credentials the user is
    anonymous with no scopes."""
    anonymous = s.http.get("/whoami")
    expect_equal("anonymous", anonymous.json(), {"authenticated": False, "name": "", "scopes": []})
    alice = s.http.get("/whoami", headers={"authorization": "Bearer alice"})
    expect_equal("alice", alice.json(), {"authenticated": True, "name": "alice", "scopes": ["authenticated"]})


@scenario("framework.middleware.auth_requires", app=_AUTH)
def _auth_requires(s: Session) -> None:
    """@requires answers 403 to a request lacking the scope, and runs the endpoint otherwise."""
    denied = s.http.get("/private")
    expect_equal("status without credentials", denied.status_code, 403)
    allowed = s.http.get("/private", headers={"authorization": "Bearer alice"})
    expect_equal("status with credentials", allowed.status_code, 200)
    expect_equal("body", allowed.text, "private to alice")


@scenario("framework.middleware.auth_redirect", app=_AUTH)
def _auth_redirect(s: Session) -> None:
    """@requires(redirect=...) answers 303 to the named route with the original URL in ?next=."""
    response = s.http.get("/admin", params={"tab": "users"}, headers={"authorization": "Bearer alice"})
    expect_equal("status", response.status_code, 303)
    location = httpx.URL(response.headers.get("location", ""))
    expect_equal("redirect path", location.path, "/login")
    expect_equal("next", location.params.get("next"), _secure(s, "http", "/admin", "tab=users"))
    admin = s.http.get("/admin", headers={"authorization": "Bearer admin"})
    expect_equal("status for an admin", admin.status_code, 200)


@scenario("framework.middleware.auth_error", app=_AUTH)
def _auth_error(s: Session) -> None:
    """An AuthenticationError raised by the backend gives 400 with its message (default on_error)."""
    response = s.http.get("/whoami", headers={"authorization": "Basic abc"})
    expect_equal("status", response.status_code, 400)
    expect_equal("body", response.text, "Invalid bearer token")


@scenario("framework.middleware.auth_websocket", app=_AUTH)
def _auth_websocket(s: Session) -> None:
    """@requires on a WebSocket endpoint: refused (403) without credentials, accepted with them."""
    expect_equal("anonymous handshake", _handshake(s, "/ws"), (403, None))
    expect_equal("handshake with credentials", _handshake(s, "/ws", {"authorization": "Bearer alice"}), (101, None))
    with s.websocket("/ws", headers={"authorization": "Bearer alice"}) as ws:
        expect_equal("message", json.loads(ws.receive()), {"name": "alice"})
