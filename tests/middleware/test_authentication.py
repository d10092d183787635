"""`AuthenticationMiddleware`: `request.auth` / `request.user`, and authentication errors."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory


class BasicAuth(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if "Authorization" not in conn.headers:
            return None
        auth = conn.headers["Authorization"]
        try:
            scheme, credentials = auth.split()
            decoded = base64.b64decode(credentials).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise AuthenticationError("Invalid basic auth credentials")
        username, _, _ = decoded.partition(":")
        return AuthCredentials(["authenticated"]), SimpleUser(username)


def whoami(request: Request) -> Response:
    return JSONResponse(
        {
            "authenticated": request.user.is_authenticated,
            "user": request.user.display_name,
            "scopes": request.auth.scopes,
        }
    )


async def websocket_whoami(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"authenticated": websocket.user.is_authenticated, "user": websocket.user.display_name})
    await websocket.close()


def make_app(on_error: Callable[[HTTPConnection, AuthenticationError], Response] | None = None) -> Starlette:
    return Starlette(
        routes=[Route("/", whoami), WebSocketRoute("/ws", websocket_whoami)],
        middleware=[Middleware(AuthenticationMiddleware, backend=BasicAuth(), on_error=on_error)],
    )


def basic(username: str, password: str = "password") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_authenticated_and_anonymous_requests(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(make_app()) as client:  # the lifespan passes through
        response = client.get("/")
        assert response.status_code == 200
        assert response.json() == {"authenticated": False, "user": "", "scopes": []}

        response = client.get("/", headers=basic("tomchristie"))
        assert response.json() == {"authenticated": True, "user": "tomchristie", "scopes": ["authenticated"]}


def test_authentication_error(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    response = client.get("/", headers={"Authorization": "basic not-base64!"})
    assert response.status_code == 400
    assert response.text == "Invalid basic auth credentials"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_custom_on_error(test_client_factory: TestClientFactory) -> None:
    def on_auth_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        return JSONResponse({"error": str(exc), "path": conn.url.path}, status_code=401)

    client = test_client_factory(make_app(on_error=on_auth_error))
    response = client.get("/", headers={"Authorization": "one two three"})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid basic auth credentials", "path": "/"}


def test_websocket_authentication(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app())
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"authenticated": False, "user": ""}

    with client.websocket_connect("/ws", headers=basic("tomchristie")) as websocket:
        assert websocket.receive_json() == {"authenticated": True, "user": "tomchristie"}

    # A websocket with bad credentials is closed (before being accepted).
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws", headers={"Authorization": "invalid"}):
            raise AssertionError("the connection is closed")
    assert info.value.code == 1000


def test_websocket_error_does_not_use_on_error_response(test_client_factory: TestClientFactory) -> None:
    seen: list[str] = []

    def on_auth_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        seen.append(conn.scope["type"])
        return PlainTextResponse("nope", status_code=401)

    client = test_client_factory(make_app(on_error=on_auth_error))
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws", headers={"Authorization": "invalid"}):
            raise AssertionError("the connection is closed")
    assert info.value.code == 1000
    assert seen == ["websocket"]


def test_middleware_attributes() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    backend = BasicAuth()
    middleware = AuthenticationMiddleware(app, backend)
    assert middleware.app is app
    assert middleware.backend is backend
    assert middleware.on_error == AuthenticationMiddleware.default_on_error

    response = AuthenticationMiddleware.default_on_error(
        HTTPConnection({"type": "http", "headers": []}), AuthenticationError("bad")
    )
    assert isinstance(response, PlainTextResponse)
    assert response.status_code == 400
    assert response.body == b"bad"


def test_unauthenticated_defaults_are_fresh_objects(test_client_factory: TestClientFactory) -> None:
    scopes: list[object] = []

    def capture(request: Request) -> Response:
        scopes.append(request.auth)
        assert isinstance(request.user, UnauthenticatedUser)
        return PlainTextResponse("")

    app = Starlette(
        routes=[Route("/", capture)], middleware=[Middleware(AuthenticationMiddleware, backend=BasicAuth())]
    )
    client = test_client_factory(app)
    client.get("/")
    client.get("/")
    assert scopes[0] is not scopes[1]


# --------------------------------------------------------------------------------------------
# Audit additions: the documented backend, lifespan pass-through, the exact ASGI messages


class DocumentedBasicAuth(AuthenticationBackend):
    """The backend of the authentication docs, scheme check included."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if "Authorization" not in conn.headers:
            return None
        auth = conn.headers["Authorization"]
        try:
            scheme, credentials = auth.split()
            if scheme.lower() != "basic":
                return None
            decoded = base64.b64decode(credentials).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise AuthenticationError("Invalid basic auth credentials")
        username, _, _ = decoded.partition(":")
        return AuthCredentials(["authenticated"]), SimpleUser(username)


def test_documented_example(test_client_factory: TestClientFactory) -> None:
    async def homepage(request: Request) -> Response:
        if request.user.is_authenticated:
            return PlainTextResponse("Hello, " + request.user.display_name)
        return PlainTextResponse("Hello, you")

    app = Starlette(
        routes=[Route("/", homepage)],
        middleware=[Middleware(AuthenticationMiddleware, backend=DocumentedBasicAuth())],
    )
    client = test_client_factory(app)
    assert client.get("/").text == "Hello, you"
    assert client.get("/", headers={"Authorization": "Bearer abc"}).text == "Hello, you"
    assert client.get("/", headers=basic("tom")).text == "Hello, tom"
    assert client.get("/", auth=("lucy", "secret")).text == "Hello, lucy"
    for bad in ("Basic a", "Basic " + base64.b64encode(b"\xff:x").decode(), "Basic"):
        response = client.get("/", headers={"Authorization": bad})
        assert (response.status_code, response.text) == (400, "Invalid basic auth credentials")


def test_lifespan_passes_through_without_authenticating(test_client_factory: TestClientFactory) -> None:
    calls: list[str] = []

    class CountingBackend(AuthenticationBackend):
        async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
            calls.append(conn.scope["type"])
            return None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        calls.append("startup")
        yield {"greeting": "hi"}
        calls.append("shutdown")

    def state(request: Request) -> Response:
        return PlainTextResponse(request.state.greeting)

    app = Starlette(
        routes=[Route("/", state)],
        middleware=[Middleware(AuthenticationMiddleware, backend=CountingBackend())],
        lifespan=lifespan,
    )
    with test_client_factory(app) as client:
        assert client.get("/").text == "hi"
    assert calls == ["startup", "http", "shutdown"]


@pytest.mark.anyio
async def test_asgi_messages_on_error_and_pass_through() -> None:
    called: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    async def receive() -> Message:
        raise AssertionError("nothing is read")  # pragma: no cover - never called

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = AuthenticationMiddleware(app, DocumentedBasicAuth())
    bad = [(b"authorization", b"Basic a")]

    await middleware({"type": "websocket", "path": "/", "headers": bad}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]

    sent.clear()
    await middleware({"type": "http", "method": "GET", "path": "/", "headers": bad}, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
    assert sent[1] == {"type": "http.response.body", "body": b"Invalid basic auth credentials"}
    assert called == []

    lifespan_scope: Scope = {"type": "lifespan"}
    await middleware(lifespan_scope, receive, send)
    assert called == [lifespan_scope] and "user" not in lifespan_scope and "auth" not in lifespan_scope

    http_scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await middleware(http_scope, receive, send)
    assert called[-1] is http_scope
    assert isinstance(http_scope["user"], UnauthenticatedUser) and http_scope["auth"].scopes == []


def test_request_user_and_auth_need_the_middleware(test_client_factory: TestClientFactory) -> None:
    def user(request: Request) -> Response:
        return PlainTextResponse(request.user.display_name)

    def auth(request: Request) -> Response:
        return PlainTextResponse(repr(request.auth))

    client = test_client_factory(Starlette(routes=[Route("/user", user), Route("/auth", auth)]))
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed to access request.user"):
        client.get("/user")
    with pytest.raises(AssertionError, match="AuthenticationMiddleware must be installed to access request.auth"):
        client.get("/auth")


def test_subclass_can_override_default_on_error(test_client_factory: TestClientFactory) -> None:
    class JSONErrors(AuthenticationMiddleware):
        @staticmethod
        def default_on_error(conn: HTTPConnection, exc: Exception) -> Response:
            return JSONResponse({"detail": str(exc)}, status_code=401)

    app = Starlette(routes=[Route("/", whoami)], middleware=[Middleware(JSONErrors, backend=BasicAuth())])
    response = test_client_factory(app).get("/", headers={"Authorization": "invalid"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid basic auth credentials"}
