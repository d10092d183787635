"""`TrustedHostMiddleware`: Host header validation, wildcard patterns and the www redirect."""

from __future__ import annotations

import contextlib
import string
from collections.abc import AsyncIterator

import anyio
import pytest
from hypothesis import given, strategies as st

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import ENFORCE_DOMAIN_WILDCARD, TrustedHostMiddleware
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
    await websocket.send_text("hello")
    await websocket.close()


def make_app(allowed_hosts: list[str] | None, www_redirect: bool = True) -> Starlette:
    return Starlette(
        routes=[Route("/", homepage), WebSocketRoute("/ws", websocket_endpoint)],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts, www_redirect=www_redirect)],
    )


def test_trusted_host(test_client_factory: TestClientFactory) -> None:
    app = make_app(["testserver", "*.testserver"])

    for base_url in ["http://testserver", "http://testserver:8000", "http://sub.testserver", "http://a.b.testserver"]:
        response = test_client_factory(app, base_url=base_url).get("/")
        assert response.status_code == 200, base_url
        assert response.text == "OK"

    for base_url in ["http://invalidhost", "http://eviltestserver", "http://testserver.evil.com"]:
        response = test_client_factory(app, base_url=base_url).get("/")
        assert response.status_code == 400, base_url
        assert response.text == "Invalid host header"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_host_names_compare_case_insensitively(test_client_factory: TestClientFactory) -> None:
    app = make_app(["TestServer", "*.Example.com"])
    client = test_client_factory(app, base_url="http://testserver")
    assert client.get("/", headers={"host": "TESTSERVER"}).status_code == 200
    assert client.get("/", headers={"host": "WWW.example.COM"}).status_code == 200


def test_ipv6_host(test_client_factory: TestClientFactory) -> None:
    app = make_app(["[::1]"])
    client = test_client_factory(app, base_url="http://testserver")
    assert client.get("/", headers={"host": "[::1]:8000"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]"}).status_code == 200
    assert client.get("/", headers={"host": "[::2]:8000"}).status_code == 400
    assert client.get("/", headers={"host": "[::1"}).status_code == 400


def test_default_allows_any_host(test_client_factory: TestClientFactory) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("OK")(scope, receive, send)

    middleware = TrustedHostMiddleware(app)
    assert middleware.allowed_hosts == ["*"]
    assert middleware.allow_any is True
    assert middleware.www_redirect is True
    assert middleware.app is app
    response = test_client_factory(middleware, base_url="http://anything.example").get("/")
    assert response.status_code == 200

    explicit = TrustedHostMiddleware(app, allowed_hosts=("example.com", "*"), www_redirect=False)
    assert explicit.allowed_hosts == ["example.com", "*"]
    assert explicit.allow_any is True
    assert explicit.www_redirect is False


@pytest.mark.parametrize("pattern", ["*example.com", "example.*", "*.*.example.com", "sub.*.example.com", "**"])
def test_bad_wildcard_patterns(pattern: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    with pytest.raises(AssertionError, match=r"Domain wildcard patterns must be like '\*\.example\.com'\."):
        TrustedHostMiddleware(app, allowed_hosts=[pattern])
    assert ENFORCE_DOMAIN_WILDCARD == "Domain wildcard patterns must be like '*.example.com'."


def test_www_redirect(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(["www.example.com"]), base_url="https://example.com")
    response = client.get("/path?q=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "https://www.example.com/path?q=1"

    response = client.get("/")
    assert response.status_code == 200
    assert response.url == "https://www.example.com/"

    # The port is kept.
    client = test_client_factory(make_app(["www.example.com"]), base_url="http://example.com:8000")
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"] == "http://www.example.com:8000/"


def test_www_redirect_disabled(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(["www.example.com"], www_redirect=False), base_url="https://example.com")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 400
    assert response.text == "Invalid host header"


def test_no_www_redirect_for_unrelated_hosts(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(["www.example.com"]), base_url="https://other.com")
    assert client.get("/", follow_redirects=False).status_code == 400


def test_websocket(test_client_factory: TestClientFactory) -> None:
    app = make_app(["testserver"])
    with test_client_factory(app) as client:  # the lifespan passes through
        with client.websocket_connect("/ws") as websocket:
            assert websocket.receive_text() == "hello"

    client = test_client_factory(app, base_url="http://invalidhost")
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/ws"):
            raise AssertionError("the connection is denied")
    assert info.value.status_code == 400
    assert info.value.text == "Invalid host header"


def run(middleware: TrustedHostMiddleware, host: bytes | None) -> list[Message]:
    headers = [] if host is None else [(b"host", host)]
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers}
    sent: list[Message] = []

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(middleware, scope, receive, send)
    return sent


async def reached(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "reached"})


def test_missing_host_header() -> None:
    sent = run(TrustedHostMiddleware(reached, allowed_hosts=["example.com"]), None)
    assert sent[0]["status"] == 400


_label = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10)


@given(labels=st.lists(_label, min_size=1, max_size=3), port=st.none() | st.integers(1, 65535))
def test_wildcard_matches_subdomains_only(labels: list[str], port: int | None) -> None:
    middleware = TrustedHostMiddleware(reached, allowed_hosts=["*.example.com"])
    suffix = "" if port is None else f":{port}"
    sub = ".".join(labels)
    assert run(middleware, f"{sub}.example.com{suffix}".encode()) == [{"type": "reached"}]
    assert run(middleware, f"{sub}example.com{suffix}".encode())[0]["status"] == 400
    assert run(middleware, f"{sub}.example.com.{labels[0]}{suffix}".encode())[0]["status"] == 400
    assert run(middleware, b"example.com")[0]["status"] == 400


@pytest.mark.parametrize("host", [b"", b":8000", b" ", b"example.com.evil", b"evil.com#example.com", b"[::1]"])
def test_bad_host_headers_get_400(host: bytes) -> None:
    sent = run(TrustedHostMiddleware(reached, allowed_hosts=["example.com"]), host)
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid host header"


def test_www_redirect_needs_a_parseable_host() -> None:
    # "example.com:abc" names example.com, but no URL can be built on it: 400, not a redirect.
    middleware = TrustedHostMiddleware(reached, allowed_hosts=["www.example.com"])
    sent = run(middleware, b"example.com:abc")
    assert sent[0]["status"] == 400
    sent = run(middleware, b"example.com:8443")
    assert sent[0]["status"] == 307
    assert (b"location", b"http://www.example.com:8443/") in sent[0]["headers"]


def test_www_redirect_only_from_the_bare_domain() -> None:
    middleware = TrustedHostMiddleware(reached, allowed_hosts=["www.example.com", "api.example.com"])
    assert run(middleware, b"www.example.com") == [{"type": "reached"}]
    assert run(middleware, b"example.com")[0]["status"] == 307
    # Not www.api.example.com (not allowed), nor anything for other subdomains.
    assert run(middleware, b"foo.example.com")[0]["status"] == 400
    # A wildcard pattern does not trigger the redirect by itself.
    wildcard = TrustedHostMiddleware(reached, allowed_hosts=["*.example.com"])
    assert run(wildcard, b"example.com")[0]["status"] == 400


def test_websocket_www_redirect(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(["www.example.com"]), base_url="http://example.com")
    with pytest.raises(WebSocketDenialResponse) as info:
        with client.websocket_connect("/ws?x=1"):
            raise AssertionError("the connection is denied")
    assert info.value.status_code == 307
    assert info.value.headers["location"] == "ws://www.example.com/ws?x=1"

    client = test_client_factory(make_app(["www.example.com"]), base_url="http://www.example.com")
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "hello"


def test_star_among_other_patterns_allows_anything() -> None:
    middleware = TrustedHostMiddleware(reached, allowed_hosts=["example.com", "*"])
    assert run(middleware, b"other.org") == [{"type": "reached"}]
    assert run(middleware, None) == [{"type": "reached"}]


@pytest.mark.anyio
@pytest.mark.parametrize("allowed_hosts", [["example.com"], ["*"], None])
async def test_lifespan_passes_through_untouched(allowed_hosts: list[str] | None) -> None:
    calls: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append((scope, receive, send))

    async def receive() -> Message:
        raise AssertionError("not called")

    async def send(message: Message) -> None:
        raise AssertionError("not called")

    # A lifespan scope has no headers, so no Host: it must not be judged.
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await TrustedHostMiddleware(app, allowed_hosts=allowed_hosts)(scope, receive, send)
    assert len(calls) == 1
    assert calls[0][0] is scope and calls[0][1] is receive and calls[0][2] is send
    assert scope == {"type": "lifespan", "asgi": {"version": "3.0"}}


def test_lifespan_through_an_app_with_the_middleware(test_client_factory: TestClientFactory) -> None:
    started: list[bool] = []

    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append(True)
        yield
        started.append(False)

    app = Starlette(
        routes=[Route("/", homepage)],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["testserver"])],
        lifespan=contextlib.asynccontextmanager(lifespan),
    )
    with test_client_factory(app) as client:
        assert started == [True]
        assert client.get("/").status_code == 200
    assert started == [True, False]
