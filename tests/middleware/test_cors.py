"""`CORSMiddleware`: preflight answers, headers on simple responses, origin matching."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, strategies as st

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import ALL_METHODS, SAFELISTED_HEADERS, CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from tests.types import TestClientFactory

calls: list[str] = []


def homepage(request: Request) -> Response:
    calls.append(request.method)
    return PlainTextResponse("Homepage", status_code=200)


def vary_endpoint(request: Request) -> Response:
    return PlainTextResponse("Homepage", headers={"Vary": "Accept-Encoding"})


def options_endpoint(request: Request) -> Response:
    return PlainTextResponse("options handled by the app")


async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


async def unused_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


def make_app(**options: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/", homepage),
            Route("/vary", vary_endpoint),
            Route("/options", options_endpoint, methods=["OPTIONS"]),
            WebSocketRoute("/ws", websocket_endpoint),
        ],
        middleware=[Middleware(CORSMiddleware, **options)],
    )


def preflight(
    origin: str = "https://example.org", method: str = "GET", request_headers: str | None = None
) -> dict[str, str]:
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers is not None:
        headers["Access-Control-Request-Headers"] = request_headers
    return headers


def test_constants() -> None:
    assert ALL_METHODS == ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
    assert SAFELISTED_HEADERS == {"Accept", "Accept-Language", "Content-Language", "Content-Type"}


def test_allow_all(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["*"], allow_headers=["*"], allow_methods=["*"], expose_headers=["X-Status"], max_age=300
    )
    client = test_client_factory(app)

    # Preflight: answered by the middleware, requested headers echoed back.
    calls.clear()
    response = client.options("/", headers=preflight(request_headers="X-Example"))
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "access-control-allow-credentials" not in response.headers
    assert "vary" not in response.headers
    assert calls == []

    # Simple request.
    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-Status"
    assert "access-control-allow-credentials" not in response.headers
    assert "vary" not in response.headers

    # Not a CORS request: untouched.
    response = client.get("/")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-expose-headers" not in response.headers


def test_allow_all_without_requested_headers(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"], allow_headers=["*"]))
    response = client.options("/", headers=preflight())
    assert response.status_code == 200
    assert "access-control-allow-headers" not in response.headers


def test_allow_all_with_credentials(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["*"], allow_headers=["*"], allow_methods=["*"], allow_credentials=True, expose_headers=["X-S"]
    )
    client = test_client_factory(app)

    response = client.options("/", headers=preflight(request_headers="X-Example"))
    assert response.status_code == 200
    # With credentials `*` is not allowed: the origin is echoed and the response varies with it.
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-headers"] == "X-Example"
    assert response.headers["vary"] == "Origin"

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-S"
    assert "vary" not in response.headers

    # A request sending cookies gets its explicit origin.
    response = client.get("/", headers={"Origin": "https://example.org", "Cookie": "a=b"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"


def test_allow_specific_origin(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["https://example.org"],
        allow_headers=["X-Example", "Content-Type"],
        allow_methods=["GET", "POST"],
    )
    client = test_client_factory(app)

    response = client.options("/", headers=preflight(request_headers="X-Example, Content-Type"))
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Example"
    )
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers

    response = client.get("/")
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers


def test_requested_headers_are_compared_case_insensitively(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"], allow_headers=["X-Example"]))
    response = client.options("/", headers=preflight(request_headers=" x-EXAMPLE ,accept,  content-type"))
    assert response.status_code == 200


def test_disallowed_preflight(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_headers=["X-Example"])
    client = test_client_factory(app)

    response = client.options(
        "/", headers=preflight(origin="https://another.org", method="POST", request_headers="X-Nope")
    )
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin, method, headers"
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
    assert response.headers["access-control-allow-methods"] == "GET"

    response = client.options("/", headers=preflight(method="POST"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS method"
    # The origin itself is fine, so it is still reported as allowed.
    assert response.headers["access-control-allow-origin"] == "https://example.org"

    response = client.options("/", headers=preflight(request_headers="X-Example, X-Other"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS headers"

    response = client.options("/", headers=preflight(origin="https://another.org"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


def test_credentials_in_preflight(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_credentials=True)
    client = test_client_factory(app)
    response = client.options("/", headers=preflight())
    assert response.status_code == 200
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-origin"] == "https://example.org"
    # Only the safelisted headers are listed.
    assert response.headers["access-control-allow-headers"] == "Accept, Accept-Language, Content-Language, Content-Type"


def test_disallowed_origin_on_simple_request(test_client_factory: TestClientFactory) -> None:
    app = make_app(allow_origins=["https://example.org"], allow_credentials=True, expose_headers=["X-A", "X-B"])
    client = test_client_factory(app)
    response = client.get("/", headers={"Origin": "https://another.org"})
    # The app still answers; the browser will refuse to expose the response.
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert "access-control-allow-origin" not in response.headers
    assert "vary" not in response.headers
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "X-A, X-B"


def test_allow_origin_regex(test_client_factory: TestClientFactory) -> None:
    app = make_app(
        allow_origins=["https://example.org"],
        allow_origin_regex=r"https://.*\.example\.org",
        allow_headers=["X-Example"],
    )
    client = test_client_factory(app)

    response = client.get("/", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "https://example.org"

    response = client.get("/", headers={"Origin": "https://sub.example.org"})
    assert response.headers["access-control-allow-origin"] == "https://sub.example.org"
    assert response.headers["vary"] == "Origin"

    response = client.options("/", headers=preflight(origin="https://sub.example.org"))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://sub.example.org"

    # The regex must match the whole origin.
    response = client.get("/", headers={"Origin": "https://sub.example.org.evil.com"})
    assert "access-control-allow-origin" not in response.headers
    response = client.options("/", headers=preflight(origin="https://sub.example.org.evil.com"))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"


def test_vary_header_is_merged(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["https://example.org"]))
    response = client.get("/vary", headers={"Origin": "https://example.org"})
    assert response.headers["vary"] == "Accept-Encoding, Origin"


def test_options_without_request_method_reaches_the_app(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.options("/options", headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.text == "options handled by the app"
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_is_answered_on_any_path(test_client_factory: TestClientFactory) -> None:
    client = test_client_factory(make_app(allow_origins=["*"]))
    response = client.options("/does-not-exist", headers=preflight())
    assert response.status_code == 200
    assert response.text == "OK"


def test_websocket_and_lifespan_pass_through(test_client_factory: TestClientFactory) -> None:
    app = CORSMiddleware(make_app(), allow_origins=["https://example.org"])
    with test_client_factory(app) as client:  # the lifespan goes through the middleware
        with client.websocket_connect("/ws", headers={"Origin": "https://another.org"}) as websocket:
            assert websocket.receive_text() == "hello"


def test_attributes() -> None:
    middleware = CORSMiddleware(unused_app, allow_methods=["*"], allow_headers=["X-Example"])
    assert middleware.app is unused_app
    assert middleware.allow_methods == ALL_METHODS
    assert middleware.allow_headers == ["accept", "accept-language", "content-language", "content-type", "x-example"]
    assert middleware.allow_all_origins is False
    assert middleware.allow_all_headers is False
    assert middleware.preflight_explicit_allow_origin is True
    assert middleware.allow_origin_regex is None
    assert middleware.simple_headers == {}
    assert middleware.preflight_headers == {
        "Vary": "Origin",
        "Access-Control-Allow-Methods": "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Language, Content-Type, X-Example",
    }


@pytest.mark.anyio
async def test_send_adds_headers_to_start_message_only() -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=["https://example.org"], expose_headers=["X-A"])
    request_headers = Headers({"origin": "https://example.org"})
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware.send({"type": "http.response.start", "status": 200}, send, request_headers)
    await middleware.send({"type": "http.response.body", "body": b"x"}, send, request_headers)
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"access-control-expose-headers", b"X-A"),
                (b"access-control-allow-origin", b"https://example.org"),
                (b"vary", b"Origin"),
            ],
        },
        {"type": "http.response.body", "body": b"x"},
    ]


_label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)


@given(labels=st.lists(_label, min_size=1, max_size=4), suffix=_label)
def test_origin_regex_matches_whole_origins(labels: list[str], suffix: str) -> None:
    middleware = CORSMiddleware(unused_app, allow_origin_regex=r"https://.*\.example\.org")
    origin = "https://" + ".".join(labels) + ".example.org"
    assert middleware.is_allowed_origin(origin)
    assert not middleware.is_allowed_origin(origin + "." + suffix)
    assert not middleware.is_allowed_origin(origin.replace("https://", "http://"))
    assert not middleware.is_allowed_origin("https://" + ".".join(labels) + ".example.com")


_header_name = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)


@given(allowed=st.lists(_header_name, max_size=5), requested=st.lists(_header_name, min_size=1, max_size=5))
def test_preflight_headers_allowed_iff_configured(allowed: list[str], requested: list[str]) -> None:
    middleware = CORSMiddleware(unused_app, allow_origins=["https://example.org"], allow_headers=allowed)
    response = middleware.preflight_response(
        Headers(
            {
                "origin": "https://example.org",
                "access-control-request-method": "GET",
                "access-control-request-headers": ", ".join(requested),
            }
        )
    )
    permitted = {h.lower() for h in allowed} | {h.lower() for h in SAFELISTED_HEADERS}
    expected_ok = all(h.lower() in permitted for h in requested)
    assert response.status_code == (200 if expected_ok else 400)
    assert response.body == (b"OK" if expected_ok else b"Disallowed CORS headers")
