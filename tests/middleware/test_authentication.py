"""`AuthenticationMiddleware`: `request.auth` / `request.user`, and authentication errors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

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
from starlette.types import Receive, Scope, Send
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
