"""`HTTPSRedirectMiddleware`: insecure requests are redirected to the secure scheme."""

from __future__ import annotations

import pytest

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import WebSocketDenialResponse
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory


def homepage(request: Request) -> Response:
    return PlainTextResponse("OK", status_code=200)


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(str(websocket.url))
    await websocket.close()


app = Starlette(
    routes=[Route("/", homepage), WebSocketRoute("/ws", websocket_endpoint)],
    middleware=[Middleware(HTTPSRedirectMiddleware)],
)


def test_https_is_served(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app, base_url="https://testserver")
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "OK"


@pytest.mark.parametrize(
    ("base_url", "location"),
    [
        ("http://testserver", "https://testserver/?a=1"),
        ("http://testserver:80", "https://testserver/?a=1"),
        ("http://testserver:443", "https://testserver/?a=1"),
        ("http://testserver:123", "https://testserver:123/?a=1"),
    ],
)
def test_http_is_redirected(test_client_factory: TestClientFactory, base_url: str, location: str) -> None:
    client = test_client_factory(app, base_url=base_url)
    response = client.get("/?a=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == location
    assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
def test_every_method_gets_a_307(test_client_factory: TestClientFactory, method: str) -> None:
    # 307 (not 301/302): the client repeats the same method and body on the secure URL.
    client = test_client_factory(app)
    response = client.request(method, "/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/"


def test_encoded_path_and_query_are_kept(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    response = client.get("/caf%C3%A9/a%20b/c?q=a%26b&x=%20&x=2", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/caf%C3%A9/a%20b/c?q=a%26b&x=%20&x=2"


def test_redirect_is_followed(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.url == "https://testserver/"


def test_secure_websocket_is_served(test_client_factory: TestClientFactory) -> None:
    with test_client_factory(app, base_url="https://testserver") as client:  # lifespan passes through
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_text() == "wss://testserver/ws"


@pytest.mark.parametrize(
    ("base_url", "location"),
    [
        ("http://testserver", "wss://testserver/ws?a=1"),
        ("http://testserver:80", "wss://testserver/ws?a=1"),
        ("http://testserver:8080", "wss://testserver:8080/ws?a=1"),
    ],
)
def test_insecure_websocket_is_denied_with_a_redirect(
    test_client_factory: TestClientFactory, base_url: str, location: str
) -> None:
    # Browsers do not follow redirects on a websocket handshake, but the denial response (the
    # ASGI "websocket.http.response" extension) tells the client where to go.
    client = test_client_factory(app, base_url=base_url)
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/ws?a=1"):
            raise AssertionError("the connection is denied")
    assert info.value.status_code == 307
    assert info.value.headers["location"] == location
    assert info.value.content == b""


async def collect(scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        sent.append(message)

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        sent.append({"type": "reached app"})

    await HTTPSRedirectMiddleware(inner)(scope, receive, send)
    return sent


def http_scope(**overrides: object) -> Scope:
    scope: Scope = {"type": "http", "method": "GET", "path": "/p", "query_string": b"", "headers": []}
    scope.update(overrides)
    return scope


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("host", "location"),
    [
        (b"[::1]:80", b"https://[::1]/p"),
        (b"[::1]:8080", b"https://[::1]:8080/p"),
        (b"user@example.com:443", b"https://example.com/p"),
        # A Host header whose port is no number is ignored: the server address is used.
        (b"example.com:abc", b"https://server.local/p"),
    ],
)
async def test_host_forms(host: bytes, location: bytes) -> None:
    sent = await collect(http_scope(scheme="http", headers=[(b"host", host)], server=("server.local", 80)))
    assert sent[0]["status"] == 307
    assert (b"location", location) in sent[0]["headers"]


@pytest.mark.anyio
async def test_missing_scheme_means_insecure() -> None:
    sent = await collect(http_scope(server=("example.com", 8000)))
    assert (b"location", b"https://example.com:8000/p") in sent[0]["headers"]
    sent = await collect(http_scope(type="websocket", server=("example.com", 80)))
    assert sent[0]["type"] == "websocket.http.response.start"
    assert (b"location", b"wss://example.com/p") in sent[0]["headers"]


@pytest.mark.anyio
async def test_secure_and_other_scopes_reach_the_app() -> None:
    assert await collect(http_scope(scheme="https")) == [{"type": "reached app"}]
    assert await collect(http_scope(type="websocket", scheme="wss")) == [{"type": "reached app"}]
    assert await collect({"type": "lifespan"}) == [{"type": "reached app"}]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "scope",
    [
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        http_scope(scheme="https", headers=[(b"host", b"example.com")]),
        http_scope(type="websocket", scheme="wss", headers=[(b"host", b"example.com")]),
    ],
)
async def test_passed_through_untouched(scope: Scope) -> None:
    calls: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append((scope, receive, send))

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    before = dict(scope)
    await HTTPSRedirectMiddleware(inner)(scope, receive, send)
    assert len(calls) == 1
    assert calls[0][0] is scope and calls[0][1] is receive and calls[0][2] is send
    assert scope == before


def test_lifespan_runs_through_the_middleware(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            events.append(message["type"])
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    with test_client_factory(HTTPSRedirectMiddleware(lifespan_app)):
        assert events == ["lifespan.startup"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]
