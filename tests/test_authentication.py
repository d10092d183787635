"""`starlette.authentication`: the `requires` decorator, users and credentials."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, strategies as st

from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
    has_required_scope,
    requires,
)
from starlette.endpoints import HTTPEndpoint, WebSocketEndpoint
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect
from tests.types import TestClientFactory


class HeaderScopes(AuthenticationBackend):
    """Grants the comma-separated scopes of the `X-Scopes` header to user "alice"."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if "x-scopes" not in conn.headers:
            return None
        return AuthCredentials(conn.headers["x-scopes"].split(",")), SimpleUser("alice")


def homepage(request: Request) -> Response:
    return PlainTextResponse("home")


@requires("authenticated")
async def dashboard(request: Request) -> Response:
    return JSONResponse({"user": request.user.display_name})


@requires(["authenticated", "admin"])
async def admin(request: Request) -> Response:
    return JSONResponse({"user": request.user.display_name})


@requires("authenticated")
def sync_dashboard(request: Request) -> Response:
    return JSONResponse({"user": request.user.display_name})


@requires("authenticated", status_code=404)
async def hidden(request: Request) -> Response:
    return PlainTextResponse("found")


@requires("authenticated", redirect="homepage")
async def redirecting(request: Request) -> Response:
    return PlainTextResponse("in")


@requires("authenticated", redirect="homepage")
def sync_redirecting(request: Request) -> Response:
    return PlainTextResponse("in")


class Endpoint(HTTPEndpoint):
    @requires("authenticated")
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("class get")

    @requires("authenticated")
    def post(self, request: Request) -> Response:
        return PlainTextResponse("class post")


@requires("authenticated")
async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"user": websocket.user.display_name})
    await websocket.close()


app = Starlette(
    routes=[
        Route("/", homepage, name="homepage"),
        Route("/dashboard", dashboard),
        Route("/admin", admin),
        Route("/sync", sync_dashboard),
        Route("/hidden", hidden),
        Route("/redirecting", redirecting),
        Route("/sync-redirecting", sync_redirecting),
        Route("/endpoint", Endpoint),
        WebSocketRoute("/ws", websocket_endpoint),
    ],
    middleware=[Middleware(AuthenticationMiddleware, backend=HeaderScopes())],
)


@pytest.mark.parametrize("path", ["/dashboard", "/sync"])
def test_requires(test_client_factory: TestClientFactory, path: str) -> None:
    client = test_client_factory(app)
    response = client.get(path)
    assert response.status_code == 403
    assert response.text == "Forbidden"

    response = client.get(path, headers={"X-Scopes": "other"})
    assert response.status_code == 403

    response = client.get(path, headers={"X-Scopes": "authenticated"})
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


def test_requires_several_scopes(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    assert client.get("/admin", headers={"X-Scopes": "authenticated"}).status_code == 403
    assert client.get("/admin", headers={"X-Scopes": "admin"}).status_code == 403
    response = client.get("/admin", headers={"X-Scopes": "admin,authenticated"})
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


def test_requires_status_code(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    response = client.get("/hidden")
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert client.get("/hidden", headers={"X-Scopes": "authenticated"}).text == "found"


@pytest.mark.parametrize("path", ["/redirecting", "/sync-redirecting"])
def test_requires_redirect(test_client_factory: TestClientFactory, path: str) -> None:
    client = test_client_factory(app)
    response = client.get(path + "?a=1&b=2", follow_redirects=False)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "http://testserver/?next=http%3A%2F%2Ftestserver" + path.replace("/", "%2F") + "%3Fa%3D1%26b%3D2"
    assert parse_qs(urlsplit(location).query) == {"next": [f"http://testserver{path}?a=1&b=2"]}

    response = client.get(path)
    assert response.status_code == 200
    assert response.text == "home"

    response = client.get(path, headers={"X-Scopes": "authenticated"}, follow_redirects=False)
    assert response.status_code == 200
    assert response.text == "in"


def test_requires_on_methods(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    assert client.get("/endpoint").status_code == 403
    assert client.post("/endpoint").status_code == 403
    assert client.get("/endpoint", headers={"X-Scopes": "authenticated"}).text == "class get"
    assert client.post("/endpoint", headers={"X-Scopes": "authenticated"}).text == "class post"


def test_requires_websocket(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    with client.websocket_connect("/ws", headers={"X-Scopes": "authenticated"}) as websocket:
        assert websocket.receive_json() == {"user": "alice"}

    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws"):
            raise AssertionError("the connection is closed")
    assert info.value.code == 1000


def test_requires_needs_a_connection_parameter() -> None:
    def no_request(conn: Request) -> Response:
        raise AssertionError("not called")

    with pytest.raises(Exception, match=r'^No "request" or "websocket" argument on function "<function .*no_request'):
        requires("authenticated")(no_request)


def make_request(*scopes: str) -> Request:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    request.scope["auth"] = AuthCredentials(scopes)
    request.scope["user"] = SimpleUser("bob")
    return request


@pytest.mark.anyio
async def test_connection_passed_by_keyword_or_position() -> None:
    @requires("authenticated")
    async def endpoint(request: Request, extra: int = 0) -> int:
        return extra

    assert await endpoint(make_request("authenticated"), 1) == 1
    assert await endpoint(make_request("authenticated"), extra=2) == 2
    assert await endpoint(request=make_request("authenticated"), extra=3) == 3
    with pytest.raises(HTTPException) as info:
        await endpoint(request=make_request())
    assert info.value.status_code == 403

    # The connection must be there, and be of the right kind.
    with pytest.raises(AssertionError):
        await endpoint()  # type: ignore[call-arg]  # deliberately missing
    with pytest.raises(AssertionError):
        await endpoint("not a request")  # type: ignore[arg-type]  # deliberately wrong


def test_sync_connection_passed_by_keyword_or_position() -> None:
    class Thing:
        @requires("authenticated", status_code=401)
        def method(self, value: str, request: Request) -> str:
            return value

    thing = Thing()
    assert thing.method("a", make_request("authenticated")) == "a"
    assert thing.method("b", request=make_request("authenticated")) == "b"
    with pytest.raises(HTTPException) as info:
        thing.method("c", make_request("other"))
    assert info.value.status_code == 401


@pytest.mark.anyio
async def test_websocket_wrapper_requires_a_websocket() -> None:
    @requires("authenticated")
    async def endpoint(websocket: WebSocket) -> None:
        raise AssertionError("not called")

    with pytest.raises(AssertionError):
        await endpoint(make_request("authenticated"))  # type: ignore[arg-type]  # deliberately wrong


def test_wrappers_keep_name_and_signature() -> None:
    cases: list[tuple[Callable[..., Any], str]] = [
        (dashboard, "dashboard"),
        (sync_dashboard, "sync_dashboard"),
        (websocket_endpoint, "websocket_endpoint"),
    ]
    for wrapped, original_name in cases:
        assert wrapped.__name__ == original_name
        assert list(inspect.signature(wrapped).parameters)[0] in ("request", "websocket")
    assert inspect.iscoroutinefunction(dashboard)
    assert not inspect.iscoroutinefunction(sync_dashboard)
    assert inspect.iscoroutinefunction(websocket_endpoint)


def test_has_required_scope() -> None:
    request = make_request("a", "b")
    assert has_required_scope(request, [])
    assert has_required_scope(request, ["a"])
    assert has_required_scope(request, ["b", "a"])
    assert not has_required_scope(request, ["a", "c"])


def test_credentials() -> None:
    assert AuthCredentials().scopes == []
    scopes = ("read", "write")
    credentials = AuthCredentials(scopes)
    assert credentials.scopes == ["read", "write"]
    assert isinstance(credentials.scopes, list)


def test_users() -> None:
    user = SimpleUser("tom")
    assert user.username == "tom"
    assert user.is_authenticated is True
    assert user.display_name == "tom"
    with pytest.raises(NotImplementedError):
        user.identity  # noqa: B018

    anonymous = UnauthenticatedUser()
    assert anonymous.is_authenticated is False
    assert anonymous.display_name == ""

    base = BaseUser()
    for name in ("is_authenticated", "display_name", "identity"):
        with pytest.raises(NotImplementedError):
            getattr(base, name)


@pytest.mark.anyio
async def test_base_backend_is_abstract() -> None:
    conn = HTTPConnection({"type": "http", "headers": []})
    with pytest.raises(NotImplementedError):
        await AuthenticationBackend().authenticate(conn)


def test_authentication_error() -> None:
    error = AuthenticationError("bad credentials")
    assert isinstance(error, Exception)
    assert str(error) == "bad credentials"


def test_custom_user_identity() -> None:
    class User(BaseUser):
        def __init__(self, ident: str) -> None:
            self.ident = ident

        @property
        def identity(self) -> str:
            return self.ident

        @property
        def is_authenticated(self) -> bool:
            return True

        @property
        def display_name(self) -> str:
            return self.ident.upper()

    user: Any = User("x1")
    assert (user.identity, user.is_authenticated, user.display_name) == ("x1", True, "X1")


# --------------------------------------------------------------------------------------------
# Audit additions: websocket endpoint classes, status_code on websockets, redirects behind
# mounts and root_path, the documented login flow


class WebSocketChat(WebSocketEndpoint):
    encoding = "text"

    @requires("chat")
    async def on_connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {websocket.user.display_name}")

    async def on_receive(self, websocket: WebSocket, data: str) -> None:
        await websocket.send_text(data.upper())


@requires("authenticated", status_code=404, redirect="homepage")
async def websocket_with_http_options(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("in")
    await websocket.close()


ws_app = Starlette(
    routes=[
        Route("/", homepage, name="homepage"),
        WebSocketRoute("/chat", WebSocketChat),
        WebSocketRoute("/options", websocket_with_http_options),
    ],
    middleware=[Middleware(AuthenticationMiddleware, backend=HeaderScopes())],
)


def test_requires_on_websocket_endpoint_methods(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ws_app)
    with client.websocket_connect("/chat", headers={"X-Scopes": "chat"}) as websocket:
        assert websocket.receive_text() == "hello alice"
        websocket.send_text("hi")
        assert websocket.receive_text() == "HI"

    for headers in ({}, {"X-Scopes": "authenticated"}):
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect("/chat", headers=headers):
                raise AssertionError("the connection is closed")  # pragma: no cover - never reached
        assert info.value.code == 1000


def test_status_code_and_redirect_do_not_apply_to_websockets(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(ws_app)
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/options"):
            raise AssertionError("the connection is closed")  # pragma: no cover - never reached
    assert info.value.code == 1000  # closed before the handshake: servers answer it with 403

    with client.websocket_connect("/options", headers={"X-Scopes": "authenticated"}) as websocket:
        assert websocket.receive_text() == "in"


@pytest.mark.anyio
async def test_websocket_denial_is_a_close_before_accept() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}  # pragma: no cover - the denial reads nothing

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/", "headers": [], "auth": AuthCredentials(), "user": UnauthenticatedUser()}
    await websocket_with_http_options(WebSocket(scope, receive, send))
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


def test_redirect_behind_mount_and_root_path(test_client_factory: TestClientFactory) -> None:
    @requires("authenticated", redirect="auth:login")
    async def settings(request: Request) -> Response:
        return PlainTextResponse("settings")

    async def login(request: Request) -> Response:
        return PlainTextResponse("login " + request.query_params["next"])

    app = Starlette(
        routes=[
            Mount("/auth", name="auth", routes=[Route("/login", login, name="login")]),
            Mount("/account", routes=[Route("/settings", settings)]),
        ],
        middleware=[Middleware(AuthenticationMiddleware, backend=HeaderScopes())],
    )
    client = test_client_factory(app, root_path="/site")
    response = client.get("/site/account/settings?tab=a b", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        "http://testserver/site/auth/login?next=http%3A%2F%2Ftestserver%2Fsite%2Faccount%2Fsettings%3Ftab%3Da%2520b"
    )
    response = client.get("/site/account/settings?tab=a b")
    assert response.text == "login http://testserver/site/account/settings?tab=a%20b"


def test_documented_login_flow(test_client_factory: TestClientFactory) -> None:
    @requires("authenticated", redirect="login")
    async def admin_page(request: Request) -> Response:
        return PlainTextResponse("admin for " + request.user.display_name)

    async def login(request: Request) -> Response:
        if request.method == "POST" and request.user.is_authenticated:
            next_url = request.query_params.get("next")
            if next_url:
                return RedirectResponse(next_url)
            return RedirectResponse("/")
        return PlainTextResponse("please log in", status_code=401)

    app = Starlette(
        routes=[
            Route("/", homepage),
            Route("/admin", admin_page),
            Route("/login", login, methods=["GET", "POST"], name="login"),
        ],
        middleware=[Middleware(AuthenticationMiddleware, backend=HeaderScopes())],
    )
    client = test_client_factory(app)
    response = client.get("/admin")
    assert response.status_code == 401
    assert response.text == "please log in"
    login_url = str(response.url)
    assert login_url == "http://testserver/login?next=http%3A%2F%2Ftestserver%2Fadmin"

    response = client.post(login_url, headers={"X-Scopes": "authenticated"}, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/admin"
    assert client.get("/admin", headers={"X-Scopes": "authenticated"}).text == "admin for alice"

    response = client.post("/login", headers={"X-Scopes": "authenticated"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_scopes_as_any_sequence(test_client_factory: TestClientFactory) -> None:
    @requires(("read", "write"))
    def endpoint(request: Request) -> Response:
        return PlainTextResponse("ok")

    client = test_client_factory(
        Starlette(
            routes=[Route("/", endpoint)], middleware=[Middleware(AuthenticationMiddleware, backend=HeaderScopes())]
        )
    )
    assert client.get("/", headers={"X-Scopes": "read"}).status_code == 403
    assert client.get("/", headers={"X-Scopes": "write,read"}).text == "ok"


@given(
    granted=st.lists(st.sampled_from(["a", "b", "c", "admin", "read"]), max_size=5),
    required=st.lists(st.sampled_from(["a", "b", "c", "admin", "read"]), max_size=5),
)
def test_has_required_scope_is_set_inclusion(granted: list[str], required: list[str]) -> None:
    assert has_required_scope(make_request(*granted), required) is set(required).issubset(granted)
